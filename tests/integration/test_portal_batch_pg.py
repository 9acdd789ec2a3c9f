"""A fetched batch applied in one transaction, against real PostgreSQL: every event exactly once, in
version order; a batch with one poisoned event applies nothing, so the consumer can apply it one by one
(tests/unit/test_consumer_chains.py) and the others still apply exactly once."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import asyncpg
import pytest
import pytest_asyncio
from portal_actions.adapters.postgres import configuration, dry_runs
from portal_actions.domain.behaviour import Behaviour
from portal_actions.domain.ordering import PredecessorPending
from portal_actions.service_layer.consume import EventHandlers
from scimsuite.events.v1 import events_pb2
from suite_common.pg import create_pool


@pytest_asyncio.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=1, max_size=2)
    yield p
    await p.close()


def _user_event(ws: str, conn_id: str, user_id: str, version: int, **state: object) -> bytes:
    change = events_pb2.CHANGE_KIND_CREATED if version == 1 else events_pb2.CHANGE_KIND_UPDATED
    return events_pb2.EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type="UserCreated" if version == 1 else "UserUpdated",
        occurred_at=datetime.now(UTC).isoformat(),
        workspace_id=ws,
        connection_id=conn_id,
        portal="store",
        resource_kind=events_pb2.RESOURCE_KIND_USER,
        change=change,
        resource_id=user_id,
        resource_version=version,
        state_json=json.dumps({"id": user_id, **state}).encode(),
    ).SerializeToString()


def _nospan() -> AbstractContextManager[object]:
    return contextlib.nullcontext()


def _spans(events: list[bytes]) -> list[tuple[bytes, Callable[[], AbstractContextManager[object]]]]:
    return [(data, _nospan) for data in events]


async def _accounts(pool: asyncpg.Pool, ws: str) -> dict[str, str]:
    rows = await pool.fetch("SELECT user_name, status FROM portal.accounts WHERE workspace_id = $1", ws)
    return {r["user_name"]: r["status"] for r in rows}


async def _audit_count(pool: asyncpg.Pool, ws: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM portal.audit WHERE workspace_id = $1", ws))


@pytest_asyncio.fixture
async def tenant(pool: asyncpg.Pool) -> tuple[str, str]:
    ws, conn_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with pool.acquire() as conn:
        await configuration.save_behaviour(conn, Behaviour(ws, "store", "employee", "remove"))
    return ws, conn_id


async def test_a_batch_applies_every_event_once_in_version_order(
    pool: asyncpg.Pool, tenant: tuple[str, str]
) -> None:
    ws, conn_id = tenant
    ann, bob = str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        _user_event(ws, conn_id, ann, 1, userName="ann@example.com", active=True),
        _user_event(ws, conn_id, ann, 2, userName="ann@example.com", active=False),
        _user_event(ws, conn_id, bob, 1, userName="bob@example.com", active=True),
    ]
    handlers = EventHandlers(pool)
    await handlers.apply_batch(_spans(batch))
    assert await _accounts(pool, ws) == {"ann@example.com": "removed", "bob@example.com": "active"}
    audited = await _audit_count(pool, ws)
    assert audited == 3  # create, remove, create

    # Delivered again (an ack lost): every event is recognised as applied, nothing happens twice.
    await handlers.apply_batch(_spans(batch))
    assert await _audit_count(pool, ws) == audited
    assert await _accounts(pool, ws) == {"ann@example.com": "removed", "bob@example.com": "active"}


async def test_a_poisoned_event_rolls_the_whole_batch_back(
    pool: asyncpg.Pool, tenant: tuple[str, str]
) -> None:
    ws, conn_id = tenant
    good = _user_event(ws, conn_id, str(uuid.uuid4()), 1, userName="cy@example.com", active=True)
    handlers = EventHandlers(pool)
    with pytest.raises(Exception):  # noqa: B017 - what an undecodable event raises is the decoder's affair
        await handlers.apply_batch(_spans([good, b"not an event envelope"]))
    assert await _accounts(pool, ws) == {}
    assert await _audit_count(pool, ws) == 0

    # Applied one by one, as the consumer then does, the good event applies once.
    await handlers.apply(good, True)
    assert await _accounts(pool, ws) == {"cy@example.com": "active"}


async def test_an_event_whose_predecessor_is_missing_rolls_the_batch_back(
    pool: asyncpg.Pool, tenant: tuple[str, str]
) -> None:
    ws, conn_id = tenant
    dee, eve = str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        _user_event(ws, conn_id, dee, 1, userName="dee@example.com", active=True),
        _user_event(ws, conn_id, eve, 2, userName="eve@example.com", active=False),  # v1 not applied yet
    ]
    with pytest.raises(PredecessorPending):
        await EventHandlers(pool).apply_batch(_spans(batch))
    assert await _accounts(pool, ws) == {}
    mirrored = await pool.fetchval(
        "SELECT count(*) FROM portal.directory_users WHERE user_id = ANY($1::uuid[])", [dee, eve]
    )
    assert mirrored == 0


async def test_a_batch_in_dry_run_does_what_the_events_one_by_one_do(pool: asyncpg.Pool) -> None:
    """Dry run rehearses from the mirror as it was; in a batch the mirror statement must not save first."""
    audits = []
    for together in (True, False):
        ws, conn_id, fay = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        async with pool.acquire() as conn:
            await configuration.save_behaviour(conn, Behaviour(ws, "store", "employee", "remove"))
            await dry_runs.enter(conn, ws, "store")
        batch = [
            _user_event(ws, conn_id, fay, 1, userName="fay@example.com", active=True),
            _user_event(ws, conn_id, fay, 2, userName="fay@example.com", active=False),
        ]
        handlers = EventHandlers(pool)
        if together:
            await handlers.apply_batch(_spans(batch))
        else:
            for data in batch:
                await handlers.apply(data, True)
        assert await _accounts(pool, ws) == {}  # nothing applied to the portal
        rows = await pool.fetch(
            "SELECT action, result, mode FROM portal.audit WHERE workspace_id = $1 ORDER BY id", ws
        )
        audits.append([tuple(r) for r in rows])
        mirrored = await pool.fetchrow(
            "SELECT version, active FROM portal.directory_users WHERE user_id = $1", fay
        )
        assert mirrored is not None and (mirrored["version"], mirrored["active"]) == (2, False)
    assert audits[0] == audits[1] and audits[0][0] == ("create-employee", "applied", "dry-run"), audits


def _group_event(ws: str, conn_id: str, group_id: str, name: str, added: list[str]) -> bytes:
    return events_pb2.EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type="GroupCreated",
        occurred_at=datetime.now(UTC).isoformat(),
        workspace_id=ws,
        connection_id=conn_id,
        portal="store",
        resource_kind=events_pb2.RESOURCE_KIND_GROUP,
        change=events_pb2.CHANGE_KIND_CREATED,
        resource_id=group_id,
        resource_version=1,
        state_json=json.dumps({"id": group_id, "displayName": name}).encode(),
        members_added=added,
    ).SerializeToString()


async def test_a_batch_audits_its_actions_in_the_order_they_happened(
    pool: asyncpg.Pool, tenant: tuple[str, str]
) -> None:
    """A batch keeps single audit entries for one statement at its end (audit.deferred); a group's
    membership entries are written at once, so the kept ones go first and ids still follow the events."""
    ws, conn_id = tenant
    ann, bob, group = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        _user_event(ws, conn_id, ann, 1, userName="ann@example.com", active=True),
        _group_event(ws, conn_id, group, "Engineering", [ann]),
        _user_event(ws, conn_id, bob, 1, userName="bob@example.com", active=True),
    ]
    await EventHandlers(pool).apply_batch(_spans(batch))
    rows = await pool.fetch(
        "SELECT action, user_name, group_name FROM portal.audit WHERE workspace_id = $1 ORDER BY id", ws
    )
    assert [tuple(r) for r in rows] == [
        ("create-employee", "ann@example.com", None),
        ("group-create", None, "Engineering"),
        ("add-to-group", "ann@example.com", "Engineering"),
        ("create-employee", "bob@example.com", None),
    ], rows
