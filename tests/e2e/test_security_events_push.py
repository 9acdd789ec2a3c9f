"""Issue 15: SETs out by push (RFC 8935) for an Okta-shaped run, verified by a loopback receiver.

The receiver checks every SET's signature against the stream's JWKS on the edge and its claims against
RFC 9967, and the test checks it got exactly one SET per committed change (by `txn`), in version order per
subject, with the events that change amounts to.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import grpc
import pytest
import pytest_asyncio
from scimsuite.events_out.v1 import events_out_pb2 as pb

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import Okta
from tests.support.scim_client import ScimClient
from tests.support.set_receiver import (
    PROV,
    PushReceiver,
    StreamsAdmin,
    Verifier,
    start_on_one_port,
    version_of,
)
from tests.support.stack import Stack

FULL = [f"{PROV}create:full", f"{PROV}patch:full", f"{PROV}put:full"]
LIFECYCLE = [f"{PROV}delete", f"{PROV}activate", f"{PROV}deactivate"]


@pytest_asyncio.fixture
async def streams(stack: Stack) -> AsyncIterator[StreamsAdmin]:
    s = StreamsAdmin(stack)
    yield s
    await s.close()


@pytest_asyncio.fixture
async def tenant(admin: Admin, unique: str) -> Tenant:
    return await admin.enable(f"ws-set-{unique}", "store", on_create="employee", on_deactivate="remove")


async def _receiver(http: aiohttp.ClientSession, stack: Stack, stream: Any, tenant: Tenant) -> PushReceiver:
    verifier = Verifier(http, f"{stack.edge_url}{stream.jwks_path}")
    return await PushReceiver(verifier, tenant.base_url, f"Bearer {secrets.token_urlsafe(16)}").start()


def shown_receiver_id(stream: Any) -> str:
    return str(stream.receivers[0].id)


async def test_okta_run_yields_one_verified_set_per_change_in_order(
    stack: Stack, streams: StreamsAdmin, tenant: Tenant, http: aiohttp.ClientSession, unique: str
) -> None:
    stream = await streams.create(tenant.workspace_id, "store")
    assert stream.alg == "ES256" and len(stream.kids) == 1
    full = await _receiver(http, stack, stream, tenant)
    notice = await _receiver(http, stack, stream, tenant)
    # Some receivers write the URIs in capitals; they are matched case-insensitively.
    await streams.add_push(stream.id, full.url, full.authorization, [*FULL, *LIFECYCLE])
    await streams.add_push(
        stream.id, notice.url, notice.authorization, [f"{PROV}PATCH:NOTICE".upper(), f"{PROV}deactivate"]
    )
    try:
        okta = Okta(ScimClient(http, stack.edge_url, tenant))
        alice = await okta.create_user(f"alice.{unique}@okta.local")
        bob = await okta.create_user(f"bob.{unique}@okta.local")
        await okta.update_user(alice, title="Engineer")  # a PUT
        await okta.set_active(bob, False)  # a PATCH
        group = await okta.push_group(f"eng-{unique}", [alice, bob])
        await okta.remove_member(group, bob)
        await okta.delete_group(group)
        # Committed changes per subject: alice 2, bob 2, the group 4 (create, add, remove, delete).
        expected = {f"/Users/{alice}": 2, f"/Users/{bob}": 2, f"/Groups/{group}": 4}

        async def all_full_arrived() -> None:
            got = {s: len(v) for s, v in full.received.by_subject().items()}
            assert got == expected, got

        await assert_eventually(all_full_arrived, timeout=30)
        assert len(set(full.received.txns())) == len(full.received.sets), "one SET per txn"
        by_subject = full.received.by_subject()
        for subject, got in by_subject.items():
            versions = [version_of(c) for c in got if f"{PROV}delete" not in c["events"]]
            assert versions == list(range(1, len(versions) + 1)), (subject, versions)
        a1, a2 = by_subject[f"/Users/{alice}"]
        assert set(a1["events"]) == {f"{PROV}create:full", f"{PROV}activate"}
        assert a1["events"][f"{PROV}create:full"]["data"]["userName"] == f"alice.{unique}@okta.local"
        assert a1["sub_id"]["externalId"].startswith("00u")
        assert set(a2["events"]) == {f"{PROV}put:full"}
        assert a2["events"][f"{PROV}put:full"]["data"]["title"] == "Engineer"
        b2 = by_subject[f"/Users/{bob}"][1]
        assert set(b2["events"]) == {f"{PROV}patch:full", f"{PROV}deactivate"}
        assert b2["events"][f"{PROV}patch:full"]["data"]["active"] is False
        g = by_subject[f"/Groups/{group}"]
        assert list(g[0]["events"]) == [f"{PROV}create:full"] and list(g[-1]["events"]) == [f"{PROV}delete"]

        # The notice receiver asked for PATCH notices and deactivations only: bob's deactivation and
        # the group's two membership PATCHes, nothing for the creates, the PUT or the delete.
        async def notices_arrived() -> None:
            assert len(notice.received.sets) == 3, notice.received.sets

        await assert_eventually(notices_arrived, timeout=30)
        by_notice = notice.received.by_subject()
        assert by_notice[f"/Users/{bob}"][0]["events"] == {
            f"{PROV}patch:notice": {"version": 'W/"2"', "attributes": ["active"]},
            f"{PROV}deactivate": {},
        }
        assert [c["events"][f"{PROV}patch:notice"]["attributes"] for c in by_notice[f"/Groups/{group}"]] == [
            ["members"],
            ["members"],
        ]

        async def figures_settled() -> None:
            shown = await streams.get(stream.id)
            by_url = {r.endpoint_url: r.stats for r in shown.receivers}
            assert by_url[full.url].delivered == 8 and by_url[full.url].pending == 0, by_url
            assert by_url[notice.url].delivered == 3, by_url

        await assert_eventually(figures_settled)
    finally:
        await full.stop()
        await notice.stop()


async def test_rfc8935_errors_are_handled_as_the_rfc_says(
    stack: Stack,
    streams: StreamsAdmin,
    tenant: Tenant,
    http: aiohttp.ClientSession,
    unique: str,
    database_url: str,
) -> None:
    """400 with an error body: recorded and not retried; 429: waits for Retry-After; 5xx, garbage and a
    connection closed mid-response: retried until accepted. The subject's next SET goes only after the
    previous one is settled."""
    stream = await streams.create(tenant.workspace_id, "store")
    rcv = await _receiver(http, stack, stream, tenant)
    await streams.add_push(
        stream.id, rcv.url, rcv.authorization, [f"{PROV}create:full", f"{PROV}patch:notice"]
    )
    rcv.answers = [
        (400, {"Content-Type": "application/json"}, b'{"err":"invalid_key","description":"key expired"}'),
        (429, {"Retry-After": "1"}, b""),
        (503, {}, b"down"),
        (500, {}, b"\x00garbage"),
        (0, {}, b""),  # closes the connection mid-response
    ]
    try:
        okta = Okta(ScimClient(http, stack.edge_url, tenant))
        uid = await okta.create_user(f"err.{unique}@okta.local")  # refused with invalid_key
        await okta.set_active(uid, False)  # 429, 503, 500, a closed connection, then accepted

        async def settled() -> None:
            shown = await streams.get(stream.id)
            stats = shown.receivers[0].stats
            assert stats.failed == 1 and stats.delivered == 1 and stats.pending == 0, stats

        await assert_eventually(settled, timeout=30)
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT state, last_error FROM security_events.sets WHERE receiver_id = $1 ORDER BY seq",
                shown_receiver_id(await streams.get(stream.id)),
            )
        finally:
            await conn.close()
        assert [r["state"] for r in rows] == ["failed", "delivered"]
        assert rows[0]["last_error"] == "invalid_key: key expired"
        rid = shown_receiver_id(await streams.get(stream.id))

        async def metrics_show_it() -> None:
            # The lag gauge is sampled from the database every 5 s; the counters move as deliveries do.
            async with http.get(stack.security_events_metrics_url) as resp:
                metrics = await resp.text()
            mine = [line for line in metrics.splitlines() if rid in line and "_created" not in line]
            for expected in (
                f'security_events_sets_delivered_total{{receiver="{rid}"}} 1.0',
                f'security_events_sets_failed_total{{err="invalid_key",receiver="{rid}"}} 1.0',
                f'security_events_sets_retried_total{{receiver="{rid}"}} 4.0',
                f'security_events_receiver_lag_seconds{{receiver="{rid}"}} 0.0',
            ):
                assert expected in mine, mine

        await assert_eventually(metrics_show_it, timeout=20)
        assert rcv.requests == 6, "the refused SET is not sent again; the others are retried until accepted"
        assert [list(c["events"]) for c in rcv.received.sets] == [[f"{PROV}patch:notice"]]
    finally:
        await rcv.stop()


async def test_receiver_configuration_is_validated(
    stack: Stack, streams: StreamsAdmin, tenant: Tenant, http: aiohttp.ClientSession
) -> None:
    stream = await streams.create(tenant.workspace_id, "store")
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await streams.create(tenant.workspace_id, "store")
    assert twice.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await streams.add_push(
            stream.id, "https://rcv.test/e", "", ["urn:ietf:params:scim:event:prov:rename"]
        )
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "unknown event URI" in str(
        unknown.value.details()
    )
    with pytest.raises(grpc.aio.AioRpcError) as bare:
        await streams.stub.GetStream(pb.StreamRef(stream_id=stream.id))  # no admin credential
    assert bare.value.code() == grpc.StatusCode.UNAUTHENTICATED
    async with http.get(f"{stack.edge_url}/scim-events/streams/{stream.id}/jwks.json") as resp:
        assert resp.status == 200
        assert all("d" not in k for k in (await resp.json(content_type=None))["keys"])
    async with http.get(f"{stack.edge_url}/scim-events/streams/{'0' * 8}/jwks.json") as resp:
        assert resp.status == 404 and (await resp.json())["err"] == "not_found"


async def test_a_hanging_receiver_delays_no_other_receiver_on_the_same_host(
    stack: Stack, streams: StreamsAdmin, tenant: Tenant, http: aiohttp.ClientSession, unique: str
) -> None:
    """Both receivers answer on one host and port (two paths); the slow one holds every request."""
    stream = await streams.create(tenant.workspace_id, "store")
    verifier = Verifier(http, f"{stack.edge_url}{stream.jwks_path}")
    slow, fast = (
        PushReceiver(verifier, tenant.base_url, f"Bearer {secrets.token_urlsafe(16)}") for _ in "ab"
    )
    await start_on_one_port([slow, fast])
    slow.gate = asyncio.Event()  # holds every request until opened (longer than the push timeout)
    for rcv in (slow, fast):
        await streams.add_push(stream.id, rcv.url, rcv.authorization, [f"{PROV}create:notice"])
    try:
        okta = Okta(ScimClient(http, stack.edge_url, tenant))
        uids = [await okta.create_user(f"h{i}.{unique}@okta.local") for i in range(40)]

        async def fast_has_all() -> None:
            assert len(fast.received.distinct().sets) == len(uids), len(fast.received.sets)

        await assert_eventually(fast_has_all, timeout=30)
        assert slow.held >= 1 and not slow.received.sets, "the slow receiver is still holding"
        slow.gate.set()

        async def slow_has_all_too() -> None:
            assert {c["sub_id"]["uri"] for c in slow.received.sets} == {f"/Users/{u}" for u in uids}

        await assert_eventually(slow_has_all_too, timeout=60)
    finally:
        slow.gate.set()
        await slow.stop()
        await fast.stop()
