"""RFC 9865 cursor pages against real PostgreSQL: walking next and previous cursors lists every row once,
in exactly the order index paging uses, for each sort (nulls and ties included) and direction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from directory.adapters.postgres import users as users_repo
from directory.adapters.postgres.search import search
from directory.domain.cursors import CursorCodec
from directory.domain.tenancy import ConnectionContext
from directory.service_layer.cursor_listing import CursorLister, CursorListing
from directory.service_layer.resources import Projection
from scim_core.errors import InvalidCursor
from scim_core.schema import USER_RESOURCE, USER_URN
from suite_common.pg import create_pool

# Titles with duplicates and gaps, so that ties and NULL sort keys are both crossed by page boundaries.
TITLES = ["B", None, "a", "B", None, "c", "A", None, "b", "B", "C"]


@pytest_asyncio.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=1, max_size=2)
    yield p
    await p.close()


@pytest_asyncio.fixture
async def ctx(pool: asyncpg.Pool) -> ConnectionContext:
    ws, cid = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO directory.workspaces (id, name) VALUES ($1, $2)", ws, f"keyset-{ws}")
        await conn.execute(
            "INSERT INTO directory.connections (id, workspace_id, portal) VALUES ($1, $2, 'store')", cid, ws
        )
        for i, title in enumerate(TITLES):
            doc: dict[str, Any] = {"userName": f"user{(i * 7) % 11:02d}"}
            if title is not None:
                doc["title"] = title
            await users_repo.insert(conn, str(cid), doc)
    return ConnectionContext(str(cid), str(ws), "store", ())


async def reference(
    pool: asyncpg.Pool, ctx: ConnectionContext, filter_text: str, sort_by: str, desc: bool
) -> list[str]:
    async with pool.acquire() as conn:
        page = await search(
            conn,
            ctx.connection_id,
            USER_RESOURCE,
            filter_text=filter_text,
            sort_by=sort_by,
            descending=desc,
            offset=0,
            limit=1000,
        )
    return [str(r["id"]) for r in page.rows]


async def page(lister: CursorLister, ctx: ConnectionContext, cursor: str, **query: Any) -> CursorListing:
    return await lister.list(ctx, "User", cursor=cursor, limit=3, projection=Projection(), **query)


@pytest.mark.parametrize("sort_by", ["", "title", "userName", "meta.created", "id"])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("filter_text", ["", 'userName ne "user05"'])
async def test_walking_both_ways_matches_index_order(
    pool: asyncpg.Pool, ctx: ConnectionContext, sort_by: str, descending: bool, filter_text: str
) -> None:
    lister = CursorLister(pool, CursorCodec(b"test-secret", 60))
    query = {"filter_text": filter_text, "sort_by": sort_by, "descending": descending}
    expected = await reference(pool, ctx, filter_text, sort_by, descending)
    assert len(expected) == len(TITLES) - (1 if filter_text else 0)

    forward: list[list[str]] = []
    listing = await page(lister, ctx, "", **query)
    assert listing.previous_cursor == ""
    while True:
        assert listing.total == len(expected)
        forward.append([r["id"] for r in listing.resources])
        if not listing.next_cursor:
            break
        listing = await page(lister, ctx, listing.next_cursor, **query)
        assert listing.previous_cursor
    assert [i for p in forward for i in p] == expected
    assert all(len(p) == 3 for p in forward[:-1])

    backward: list[list[str]] = [forward[-1]]
    while listing.previous_cursor:
        listing = await page(lister, ctx, listing.previous_cursor, **query)
        backward.insert(0, [r["id"] for r in listing.resources])
    assert backward[0] == forward[0]  # the walk back ends on the first page, which has no previousCursor
    assert [i for p in backward for i in p] == expected


async def test_a_cursor_for_another_filter_or_sort_is_invalid(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    lister = CursorLister(pool, CursorCodec(b"test-secret", 60))
    first = await page(lister, ctx, "", filter_text="", sort_by="title", descending=False)
    with pytest.raises(InvalidCursor):
        await page(lister, ctx, first.next_cursor, filter_text="title pr", sort_by="title", descending=False)
    with pytest.raises(InvalidCursor):
        await page(lister, ctx, first.next_cursor, filter_text="", sort_by="title", descending=True)


async def test_rows_inserted_and_deleted_between_pages_do_not_shift_the_others(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    lister = CursorLister(pool, CursorCodec(b"test-secret", 60))
    query = {"filter_text": "", "sort_by": "userName", "descending": False}
    before = await reference(pool, ctx, "", "userName", False)
    first = await page(lister, ctx, "", **query)
    seen = [r["id"] for r in first.resources]
    async with pool.acquire() as conn:
        for name in ("aaa-before-everyone", "user015-between", "zzz-after-everyone"):
            await users_repo.insert(conn, ctx.connection_id, {"userName": name, "schemas": [USER_URN]})
        await conn.execute("DELETE FROM directory.users WHERE id = $1", uuid.UUID(seen[0]))
    listing = first
    while listing.next_cursor:
        listing = await page(lister, ctx, listing.next_cursor, **query)
        seen += [r["id"] for r in listing.resources]
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in before] == before  # every original row exactly once, in order
    names = {r["userName"] for r in listing.resources}
    assert "zzz-after-everyone" in names
