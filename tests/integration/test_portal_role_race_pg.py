"""A user's first provisioning and a group push applied concurrently, against real PostgreSQL.

The consumer applies a batch concurrently, so a Dashboard user's Created event and the group event that
adds them can run in two overlapping transactions. Neither sees the other's uncommitted rows: without the
connection's role lock, the user would read no memberships and the group event would find no account, and
the role would stay the default. Here the first transaction is held open while the second starts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from portal_actions.adapters.postgres import configuration
from portal_actions.domain.behaviour import Behaviour
from portal_actions.domain.events import DirectoryEvent
from portal_actions.service_layer.apply_event import apply_event
from suite_common.pg import create_pool

from tests.support.eventually import assert_eventually


@pytest_asyncio.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=3, max_size=3)
    yield p
    await p.close()


def _event(ws: str, conn_id: str, kind: str, rid: str, at: datetime, **kw: object) -> DirectoryEvent:
    fields: dict[str, object] = {
        "event_id": str(uuid.uuid4()),
        "event_type": f"{kind}Created",
        "occurred_at": at,
        "workspace_id": ws,
        "connection_id": conn_id,
        "portal": "dashboard",
        "kind": kind,
        "change": "Created",
        "resource_id": rid,
        "version": 1,
        "state": None,
        "members_added": (),
        "members_removed": (),
        "request_id": "",
    }
    fields.update(kw)
    return DirectoryEvent(**fields)  # type: ignore[arg-type]


async def _blocked_or_done(pool: asyncpg.Pool, pid: int, task: asyncio.Task[None]) -> None:
    """The second transaction has gone as far as it can while the first is open."""
    if task.done():
        return
    async with pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid) == "Lock"
        )


@pytest.mark.parametrize("first", ["group", "user"])
async def test_overlapping_create_and_push_give_the_mapped_role(first: str, pool: asyncpg.Pool) -> None:
    ws, conn_id, uid, gid = (str(uuid.uuid4()) for _ in range(4))
    async with pool.acquire() as conn:
        await configuration.save_behaviour(conn, Behaviour(ws, "dashboard", "collaborator", "remove"))
        await configuration.save_role_mapping(conn, ws, "Admins", "admin")
    now = datetime.now(UTC)
    created = _event(ws, conn_id, "User", uid, now, state={"userName": "ann@example.com", "active": True})
    pushed = _event(
        ws,
        conn_id,
        "Group",
        gid,
        now + timedelta(seconds=1),
        state={"displayName": "Admins"},
        members_added=(uid,),
    )
    held, other = (pushed, created) if first == "group" else (created, pushed)

    async with pool.acquire() as c1, pool.acquire() as c2:
        pid = await c2.fetchval("SELECT pg_backend_pid()")

        async def second() -> None:
            async with c2.transaction():
                await apply_event(c2, other)

        async with c1.transaction():
            await apply_event(c1, held)
            task = asyncio.create_task(second())
            await assert_eventually(lambda: _blocked_or_done(pool, pid, task))
        await task

    async with pool.acquire() as conn:
        role = await conn.fetchval("SELECT role FROM portal.accounts WHERE user_id = $1", uid)
    assert role == "admin"
