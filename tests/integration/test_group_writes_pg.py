"""A Group PATCH of member adds and removes, against real PostgreSQL: one read, one compare-and-set write.

The fast path (`ResourceService._patch_group`) reads the group and the named members' state in one
statement and writes the row, the membership rows and the outbox event in another, with no lock held
between them. What must hold: concurrent PATCHes of one group all land, each with its own version and one
event whose delta is what it changed; a write that lost the race writes nothing; a user deleted between
the read and the write is not added; a PATCH that changes nothing writes nothing; and the answer's members
are what a read after the write returns.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest_asyncio
from directory.adapters.postgres import groups as groups_repo
from directory.adapters.postgres import outbox
from directory.domain.events import ResourceChanged
from directory.domain.tenancy import ConnectionContext
from directory.service_layer.resources import Projection, RequestInfo, ResourceService
from scim_core.kinds import ResourceKind
from scimsuite.events.v1 import events_pb2
from suite_common.pg import create_pool

from tests.support.stack import database_fixture

PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
NONE = RequestInfo()
ALL = Projection()

own_database = database_fixture("groupwrites")


@pytest_asyncio.fixture
async def pool(own_database: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(own_database, min_size=1, max_size=12)
    yield p
    await p.close()


@pytest_asyncio.fixture
async def ctx(pool: asyncpg.Pool) -> ConnectionContext:
    ws, cid = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO directory.workspaces (id, name) VALUES ($1, $2)", ws, f"grp-{ws}")
        await conn.execute(
            "INSERT INTO directory.connections (id, workspace_id, portal) VALUES ($1, $2, 'store')", cid, ws
        )
    return ConnectionContext(str(cid), str(ws), "store", ())


async def _users(service: ResourceService, ctx: ConnectionContext, n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [
        str(
            (
                await service.create(
                    ctx, ResourceKind.USER, {"userName": f"m{tag}{i}@example.com"}, NONE, ALL
                )
            ).resource["id"]
        )
        for i in range(n)
    ]


async def _group(service: ResourceService, ctx: ConnectionContext, members: list[str]) -> str:
    body = {"displayName": f"g-{uuid.uuid4().hex[:8]}", "members": [{"value": m} for m in members]}
    return str((await service.create(ctx, ResourceKind.GROUP, body, NONE, ALL)).resource["id"])


def _ops(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": list(ops)}


def _add(*members: str, display: str | None = None) -> dict[str, Any]:
    value = [{"value": m, **({"display": display} if display else {})} for m in members]
    return {"op": "add", "path": "members", "value": value}


def _remove(member: str) -> dict[str, Any]:
    return {"op": "remove", "path": f'members[value eq "{member}"]'}


async def _events(pool: asyncpg.Pool, group_id: str) -> list[events_pb2.EventEnvelope]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM directory.outbox WHERE stream_key = $1 ORDER BY id", f"group:{group_id}"
        )
    return [events_pb2.EventEnvelope.FromString(bytes(r["payload"])) for r in rows]


async def _stored_members(pool: asyncpg.Pool, group_id: str) -> list[dict[str, str]]:
    async with pool.acquire() as conn:
        return (await groups_repo.members_of(conn, [uuid.UUID(group_id)]))[uuid.UUID(group_id)]


async def test_concurrent_patches_of_one_group_all_land_each_with_its_version_and_event(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    service = ResourceService(pool)
    users = await _users(service, ctx, 16)
    gid = await _group(service, ctx, [])

    answers = await asyncio.gather(
        *(service.patch(ctx, ResourceKind.GROUP, gid, _ops(_add(u)), None, NONE, ALL) for u in users)
    )

    assert {m["value"] for m in await _stored_members(pool, gid)} == set(users)
    assert sorted(a.version for a in answers) == list(range(2, 18))
    updates = (await _events(pool, gid))[1:]  # after the Created one
    assert [e.resource_version for e in updates] == list(range(2, 18))
    assert sorted(m for e in updates for m in e.members_added) == sorted(users)
    assert all(len(e.members_added) == 1 and not e.members_removed for e in updates)


async def test_a_write_that_lost_the_race_writes_nothing(pool: asyncpg.Pool, ctx: ConnectionContext) -> None:
    service = ResourceService(pool)
    a, b = await _users(service, ctx, 2)
    gid = await _group(service, ctx, [])
    async with pool.acquire() as conn:
        read = await groups_repo.read_for_patch(conn, ctx.connection_id, gid, [a], 0)
        assert read is not None and read.named_members == {} and read.named_users == {a}
        # Another writer gets there first.
        await service.patch(ctx, ResourceKind.GROUP, gid, _ops(_add(b)), None, NONE, ALL)
        pending = groups_repo.pending(
            read.row, {"displayName": read.row["display_name"]}, read.row["last_modified"]
        )
        event = ResourceChanged(
            resource_type=ResourceKind.GROUP, change="Updated", resource_id=gid, version=2, state={}
        )
        written = await groups_repo.patch_with_event(
            conn, ctx.connection_id, read.row, pending, [], {a: (None, None)}, outbox.values(ctx, event)
        )
    assert written is None
    assert [m["value"] for m in await _stored_members(pool, gid)] == [b]
    assert [e.resource_version for e in await _events(pool, gid)] == [1, 2]


async def test_a_user_deleted_between_read_and_write_is_a_lost_race_not_a_member(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    service = ResourceService(pool)
    (a,) = await _users(service, ctx, 1)
    gid = await _group(service, ctx, [])
    async with pool.acquire() as conn:
        read = await groups_repo.read_for_patch(conn, ctx.connection_id, gid, [a], 0)
        assert read is not None and read.named_users == {a}
        await service.delete(ctx, ResourceKind.USER, a, None, NONE)
        pending = groups_repo.pending(
            read.row, {"displayName": read.row["display_name"]}, read.row["last_modified"]
        )
        event = ResourceChanged(
            resource_type=ResourceKind.GROUP, change="Updated", resource_id=gid, version=2, state={}
        )
        try:
            await groups_repo.patch_with_event(
                conn, ctx.connection_id, read.row, pending, [], {a: (None, None)}, outbox.values(ctx, event)
            )
        except groups_repo.Conflict:
            pass
        else:
            raise AssertionError("a membership of a deleted user was written")
    assert await _stored_members(pool, gid) == []
    assert [e.resource_version for e in await _events(pool, gid)] == [1]
    # Through the service the retry reads again: the id is no user any more, so the PATCH changes nothing.
    answer = await service.patch(ctx, ResourceKind.GROUP, gid, _ops(_add(a)), None, NONE, ALL)
    assert answer.version == 1 and answer.resource.get("members", []) == []


async def test_a_patch_that_changes_nothing_writes_nothing(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    service = ResourceService(pool)
    a, b = await _users(service, ctx, 2)
    gid = await _group(service, ctx, [a])
    stranger = str(uuid.uuid4())
    answer = await service.patch(
        ctx,
        ResourceKind.GROUP,
        gid,
        _ops(_add(a), _remove(b), _add(stranger), _add(b), _remove(b)),
        None,
        NONE,
        ALL,
    )
    assert answer.version == 1
    assert answer.resource["members"] == [{"value": a}]
    assert [e.resource_version for e in await _events(pool, gid)] == [1]


async def test_the_answer_holds_the_members_a_read_after_the_write_returns(
    pool: asyncpg.Pool, ctx: ConnectionContext
) -> None:
    # Inlined up to 4 members: the answer must show exactly what GET shows, or leave members out above it.
    service = ResourceService(pool, write_members_inline_max=4)
    users = await _users(service, ctx, 8)
    gid = await _group(service, ctx, users[:5])  # 5 members: over the bound
    cases = [
        _ops(_remove(users[0])),  # 4 left: inlined again
        _ops(_add(users[5], display="Five")),  # 5: over
        _ops(_remove(users[1]), _remove(users[2])),  # 3
        _ops(_add(users[3], display="Three"), _add(users[7])),  # relabel one, add one: 4
        _ops(_add(users[6]), _remove(users[6])),  # cancels out: no write, still 4
        _ops(_add(users[6])),  # 5: over
    ]
    for body in cases:
        answer = await service.patch(ctx, ResourceKind.GROUP, gid, body, None, NONE, ALL)
        stored = await _stored_members(pool, gid)
        expected = stored if len(stored) <= 4 else None
        assert answer.resource.get("members") == expected, (body, answer.resource, stored)
        got = await service.get(ctx, ResourceKind.GROUP, gid, ALL)
        assert got.version == answer.version
    assert {"value": users[3], "display": "Three"} in await _stored_members(pool, gid)
    versions = [e.resource_version for e in await _events(pool, gid)]
    assert versions == list(range(1, 7)), versions  # the create, then five PATCHes that changed something
