"""Issue 15 on real PostgreSQL: consuming directory events is exactly once per `txn` and in version order,
and a push receiver that never answers is dead-lettered after its bound."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import jwt
import pytest_asyncio
from scimsuite.events.v1 import events_pb2
from security_events.adapters.postgres import consumption, sets
from security_events.adapters.postgres.keys import KeyStore
from security_events.domain.key_encryption import Sealer
from security_events.metrics import SetMetrics
from security_events.service_layer.admin import StreamAdmin
from security_events.service_layer.build import CONSUMED, WAITING, SetBuilder
from security_events.service_layer.push import PushDeliverer, PushPolicy
from security_events.service_layer.receivers_cache import ReceiversCache
from suite_common.embedded.processes import free_port
from suite_common.metrics import new_registry
from suite_common.pg import create_pool

from tests.support.directory_events import user_event
from tests.support.eventually import assert_eventually
from tests.support.stack import database_fixture

PROV = "urn:ietf:params:scim:event:prov:"


def _event(workspace: str, user: str, version: int, active: bool = True, title: str = "") -> bytes:
    return user_event(workspace, user, version, active=active, title=title).SerializeToString()


# Not the session's database: there the session stack's security-events service delivers the same SETs
# (woken by their NOTIFY, with its own timeouts and dead-letter bound), so a test of the deliverer's timing
# raced a second deliverer (seen in CI: 8 attempts of 3 s, never dead-lettered).
own_database = database_fixture("setbuild")


@pytest_asyncio.fixture
async def pool(own_database: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(own_database, min_size=1, max_size=4)
    yield p
    await p.close()


def _uncached(pool: asyncpg.Pool) -> ReceiversCache:
    """A cache that never LISTENs, so it is always bypassed: every group reads the receivers."""
    return ReceiversCache("postgresql://unused")


async def _stream_with_push(
    pool: asyncpg.Pool, url: str, events: list[str], workspace: str = ""
) -> tuple[str, str, KeyStore]:
    sealer = Sealer("integration-test-secret-0123456789")
    keys = KeyStore(sealer)
    admin = StreamAdmin(pool, keys, sealer, allow_insecure=True)
    workspace = workspace or str(uuid.uuid4())
    stream_id = await admin.create_stream(workspace, "store", "ES256")
    receiver = await admin.add_receiver(stream_id, "push", url, "", "", events)
    return workspace, str(receiver.row["id"]), keys


async def test_a_group_is_consumed_once_in_version_order(pool: asyncpg.Pool) -> None:
    workspace, receiver_id, keys = await _stream_with_push(pool, "http://127.0.0.1:9/e", [])
    builder = SetBuilder(pool, keys, "https://scim.test", SetMetrics(new_registry()), _uncached(pool))
    user = str(uuid.uuid4())
    v1, v2, v3 = _event(workspace, user, 1), _event(workspace, user, 2, False), _event(workspace, user, 3)

    # v3 without v2 waits (and so would the resource's later events in that group).
    outcomes = await builder.apply_group([(v1, True), (v3, True)])
    assert [o.kind for o in outcomes] == [CONSUMED, WAITING] and outcomes[1].seen == 1
    assert [o.kind for o in await builder.apply_group([(v2, True), (v3, True)])] == [CONSUMED, CONSUMED]
    # Redelivered: recorded as consumed already, nothing written twice.
    assert [o.kind for o in await builder.apply_group([(v1, True), (v2, True), (v3, True)])] == [CONSUMED] * 3
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT txn, token FROM security_events.sets WHERE receiver_id = $1 ORDER BY seq", receiver_id
        )
    assert len(rows) == 3 and len({r["txn"] for r in rows}) == 3

    events = [set(jwt.decode(r["token"], options={"verify_signature": False})["events"]) for r in rows]
    assert events == [
        {f"{PROV}create:full", f"{PROV}activate"},
        {f"{PROV}patch:full", f"{PROV}deactivate"},
        {f"{PROV}patch:full", f"{PROV}activate"},
    ]
    # Undecodable bytes fail alone; the group's other events are consumed.
    user2 = str(uuid.uuid4())
    outcomes = await builder.apply_group([(b"\xffnot-protobuf", True), (_event(workspace, user2, 1), True)])
    assert [o.kind for o in outcomes] == ["failed", CONSUMED]


async def test_a_receiver_that_never_answers_is_dead_lettered_after_its_bound(pool: asyncpg.Pool) -> None:
    # A loopback port that accepts connections and never answers: every push times out.
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", free_port())
    port = silent.sockets[0].getsockname()[1]
    workspace, receiver_id, keys = await _stream_with_push(
        pool, f"http://127.0.0.1:{port}/e", [f"{PROV}create:notice"]
    )
    registry = new_registry()
    metrics = SetMetrics(registry)
    builder = SetBuilder(pool, keys, "https://scim.test", metrics, _uncached(pool))
    await builder.apply_group([(_event(workspace, str(uuid.uuid4()), 1), True)])
    sealer = keys.sealer
    policy = PushPolicy(
        timeout_s=0.3, concurrency=4, retry_base_s=0.05, retry_max_s=0.2, dead_letter_after_s=1.5
    )
    deliverer = PushDeliverer(pool, sealer, policy, metrics)
    task = asyncio.create_task(deliverer.run())
    try:

        async def dead() -> None:
            async with pool.acquire() as conn:
                row = await conn.fetchrow(
                    "SELECT state, attempts, last_error FROM security_events.sets WHERE receiver_id = $1",
                    receiver_id,
                )
            assert row is not None and row["state"] == "dead", row
            assert row["last_error"].startswith("transport: TimeoutError"), row

        await assert_eventually(dead, timeout=30)
    finally:
        await deliverer.shutdown()
        await task
        silent.close()
        await silent.wait_closed()
    # How many timeouts fit in the bound depends on the machine; that it ends dead, once, does not.
    assert registry.get_sample_value("security_events_sets_dead_total", {"receiver": receiver_id}) == 1


async def test_pruning_forgets_settled_sets_but_never_pending_ones_nor_recent_ids(pool: asyncpg.Pool) -> None:
    workspace, receiver_id, keys = await _stream_with_push(pool, "http://127.0.0.1:9/e", [])
    builder = SetBuilder(pool, keys, "https://scim.test", SetMetrics(new_registry()), _uncached(pool))
    events = [_event(workspace, str(uuid.uuid4()), 1) for _ in range(2)]
    await builder.apply_group([(e, True) for e in events])
    ids = [events_pb2.EventEnvelope.FromString(e).event_id for e in events]
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT jti FROM security_events.sets WHERE receiver_id = $1 ORDER BY seq", receiver_id
        )
        jtis = [r["jti"] for r in rows]
        assert await sets.delivered(conn, receiver_id, jtis[:1]) == 1
        assert await sets.prune(conn, 0.0) >= 1
        left = await conn.fetch(
            "SELECT jti, state FROM security_events.sets WHERE receiver_id = $1", receiver_id
        )
        assert [(r["jti"], r["state"]) for r in left] == [(jtis[1], "pending")]
        await consumption.prune(conn, 3600.0)
        kept = await conn.fetchval(
            "SELECT count(*) FROM security_events.consumed_events WHERE event_id = ANY($1::text[])", ids
        )
        assert kept == 2, "ids younger than the retention are kept"


async def test_a_connection_without_a_stream_keeps_only_states_and_a_later_stream_diffs_against_them(
    pool: asyncpg.Pool, own_database: str
) -> None:
    cache = ReceiversCache(own_database)
    listening = asyncio.create_task(cache.run())
    try:
        await assert_eventually(lambda: _holds(lambda: cache.listening), timeout=10)
        keys = KeyStore(Sealer("integration-test-secret-0123456789"))
        builder = SetBuilder(pool, keys, "https://scim.test", SetMetrics(new_registry()), cache)
        workspace, user = str(uuid.uuid4()), str(uuid.uuid4())
        v1, v2 = _event(workspace, user, 1), _event(workspace, user, 2, title="Engineer")
        # No stream: both consumed in any order, nothing recorded but the newest state.
        assert [o.kind for o in await builder.apply_group([(v2, True), (v1, True)])] == [CONSUMED] * 2
        assert cache.get((workspace, "store")) == ()
        ids = [events_pb2.EventEnvelope.FromString(e).event_id for e in (v1, v2)]
        async with pool.acquire() as conn:
            consumed = await conn.fetchval(
                "SELECT count(*) FROM security_events.consumed_events WHERE event_id = ANY($1::text[])", ids
            )
            version = await conn.fetchval(
                "SELECT version FROM security_events.resources WHERE resource_id = $1", user
            )
        assert (consumed, version) == (0, 2)

        # A stream added by another replica (no in-process invalidation): its NOTIFY drops the entry. The
        # stream and its receiver are two commits, so two notifications: both must have arrived before the
        # cache is filled again below, or the later one would drop the entry the key-rotation check needs.
        seen = cache.generation
        _, receiver_id, keys_of_stream = await _stream_with_push(
            pool, "http://127.0.0.1:9/e", [f"{PROV}patch:notice", f"{PROV}deactivate"], workspace
        )
        await assert_eventually(lambda: _holds(lambda: cache.generation >= seen + 2), timeout=10)
        assert cache.get((workspace, "store")) is None
        builder.keys = keys_of_stream
        # v1 again (a late redelivery) is superseded; v3 diffs against v2 and is told apart as a flip.
        v3 = _event(workspace, user, 3, active=False, title="Engineer")
        assert [o.kind for o in await builder.apply_group([(v1, True), (v3, True)])] == [CONSUMED] * 2
        async with pool.acquire() as conn:
            tokens = await conn.fetch(
                "SELECT token FROM security_events.sets WHERE receiver_id = $1 ORDER BY seq", receiver_id
            )
        claims = [jwt.decode(r["token"], options={"verify_signature": False}) for r in tokens]
        assert [c["events"] for c in claims] == [
            {f"{PROV}patch:notice": {"version": 'W/"3"', "attributes": ["active"]}, f"{PROV}deactivate": {}}
        ]

        # A key rotation elsewhere drops the cached key with the receivers: the next SET has the new kid.
        assert cache.get((workspace, "store")) is not None
        rotating = StreamAdmin(pool, keys_of_stream, keys_of_stream.sealer, allow_insecure=True)
        (stream_id,) = await rotating.list_streams(workspace)
        await rotating.rotate_key(stream_id, 60.0)
        newest = (await rotating.jwks(stream_id))["keys"][0]["kid"]
        await assert_eventually(lambda: _holds(lambda: cache.get((workspace, "store")) is None), timeout=10)
        v4 = _event(workspace, user, 4, active=False, title="Lead")
        assert [o.kind for o in await builder.apply_group([(v4, True)])] == [CONSUMED]
        async with pool.acquire() as conn:
            token = await conn.fetchval(
                "SELECT token FROM security_events.sets WHERE receiver_id = $1 ORDER BY seq DESC LIMIT 1",
                receiver_id,
            )
        assert jwt.get_unverified_header(token)["kid"] == newest
    finally:
        await cache.shutdown()
        await listening


async def _holds(condition: Callable[[], bool]) -> None:
    assert condition()
