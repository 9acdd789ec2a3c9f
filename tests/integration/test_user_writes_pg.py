"""A user's row and its outbox event in one statement, against real PostgreSQL.

Create is one INSERT CTE; PATCH/PUT read the row, compute, then write row and event in one compare-and-set
UPDATE CTE (no lock held between the round trips). What must hold: concurrent writes to one user all land
(none overwrites another), versions and events stay one per change and in order, a rejected write writes
no event, and a membership change between the read and the write never leaves the answer's ETag, the stored
row and the published state disagreeing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from directory.adapters.postgres import groups as groups_repo
from directory.adapters.postgres import users as users_repo
from directory.domain.tenancy import ConnectionContext
from directory.service_layer.resources import Projection, RequestInfo, ResourceService
from scim_core import errors
from scim_core.kinds import ResourceKind
from scim_core.patch import MemberRef
from scim_core.schema import USER_URN
from scimsuite.events.v1 import events_pb2
from suite_common.pg import create_pool

from tests.support.stack import database_fixture

PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
NONE = RequestInfo()
ALL = Projection()


# The session database has an outbox relay draining the rows these tests read.
own_database = database_fixture("userwrites")


@pytest_asyncio.fixture
async def pool(own_database: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(own_database, min_size=1, max_size=12)
    yield p
    await p.close()


@pytest_asyncio.fixture
async def ctx(pool: asyncpg.Pool) -> ConnectionContext:
    ws, cid = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO directory.workspaces (id, name) VALUES ($1, $2)", ws, f"cas-{ws}")
        await conn.execute(
            "INSERT INTO directory.connections (id, workspace_id, portal) VALUES ($1, $2, 'store')", cid, ws
        )
    return ConnectionContext(str(cid), str(ws), "store", ())


async def _events(pool: asyncpg.Pool, user_id: str) -> list[events_pb2.EventEnvelope]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM directory.outbox WHERE stream_key = $1 ORDER BY id", f"user:{user_id}"
        )
    return [events_pb2.EventEnvelope.FromString(bytes(r["payload"])) for r in rows]


def _add_email(value: str) -> dict[str, Any]:
    return {
        "schemas": [PATCH_URN],
        "Operations": [{"op": "add", "path": "emails", "value": [{"value": value, "type": "work"}]}],
    }


async def test_a_create_is_its_row_and_one_event_with_the_same_state(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    service = ResourceService(pool)
    name = f"c-{uuid.uuid4().hex[:6]}@example.com"
    body: dict[str, Any] = {"schemas": [USER_URN], "userName": name, "active": True}
    created = await service.create(ctx, ResourceKind.USER, body, NONE, ALL)
    got = await service.get(ctx, ResourceKind.USER, created.resource["id"], ALL)
    (event,) = await _events(pool, created.resource["id"])
    state = json.loads(event.state_json)
    # Stored row, answer and published state agree to the microsecond (the writer's clock for both).
    assert created.resource["meta"] == got.resource["meta"] == state["meta"]
    assert event.event_type == "UserCreated" and event.resource_version == 1
    with pytest.raises(errors.Uniqueness):
        await service.create(ctx, ResourceKind.USER, {**body, "userName": name.upper()}, NONE, ALL)
    assert len(await _events(pool, created.resource["id"])) == 1  # the refused twin wrote nothing


async def test_concurrent_patches_of_one_user_all_land_once_and_in_version_order(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    service = ResourceService(pool)
    body = {"schemas": [USER_URN], "userName": f"r-{uuid.uuid4().hex[:6]}@example.com"}
    uid = (await service.create(ctx, ResourceKind.USER, body, NONE, ALL)).resource["id"]
    values = [f"e{i}@example.com" for i in range(10)]
    await asyncio.gather(
        *(service.patch(ctx, ResourceKind.USER, uid, _add_email(v), None, NONE, ALL) for v in values)
    )
    final = await service.get(ctx, ResourceKind.USER, uid, ALL)
    assert sorted(e["value"] for e in final.resource["emails"]) == values  # no write overwrote another
    events = await _events(pool, uid)
    assert [e.resource_version for e in events] == list(range(1, 12))  # one per change, in outbox order
    assert final.version == 11
    last = json.loads(events[-1].state_json)
    assert sorted(e["value"] for e in last["emails"]) == values


async def test_a_membership_change_between_read_and_write_is_retried_not_misreported(
    pool: asyncpg.Pool, ctx: ConnectionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user joins a group (another connection, committed) after the PATCH read it and before it
    writes: the compare-and-set finds the memberships changed and writes nothing, the PATCH reads again,
    and its answer, the stored row and the published state all carry the ETag GET gives."""
    service = ResourceService(pool)
    body = {"schemas": [USER_URN], "userName": f"m-{uuid.uuid4().hex[:6]}@example.com"}
    uid = (await service.create(ctx, ResourceKind.USER, body, NONE, ALL)).resource["id"]
    async with pool.acquire() as conn:
        group = await groups_repo.insert(conn, ctx.connection_id, {"displayName": f"g-{uid[:6]}"})
    real = users_repo.update_with_event
    writes: list[bool] = []

    async def racing(conn: Any, read: Any, row: Any, event: Any, *, with_groups: bool) -> Any:
        if not writes:
            async with pool.acquire() as other:
                await groups_repo.add_members(other, ctx.connection_id, group["id"], [MemberRef(uid)])
        written = await real(conn, read, row, event, with_groups=with_groups)
        writes.append(written is not None)
        return written

    monkeypatch.setattr(users_repo, "update_with_event", racing)
    replace = {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "title", "value": "Eng"}]}
    stored = await service.patch(ctx, ResourceKind.USER, uid, replace, None, NONE, ALL)
    got = await service.get(ctx, ResourceKind.USER, uid, ALL)
    events = await _events(pool, uid)
    assert writes == [False, True]  # the first compare-and-set lost, the second one wrote
    assert got.resource["title"] == "Eng" and [g["value"] for g in got.resource["groups"]] == [
        str(group["id"])
    ]
    assert stored.version == got.version
    assert stored.resource["meta"]["version"] == got.resource["meta"]["version"]
    assert json.loads(events[-1].state_json)["meta"]["version"] == got.resource["meta"]["version"]
    assert [e.resource_version for e in events] == [1, 2]
