"""Issue 15: SETs out by poll (RFC 8936) on the edge: acks, setErrs, redelivery, bounded long polls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import Okta
from tests.support.scim_client import ScimClient
from tests.support.set_receiver import PROV, PollReceiver, StreamsAdmin, Verifier, version_of
from tests.support.stack import Stack


@pytest_asyncio.fixture
async def streams(stack: Stack) -> AsyncIterator[StreamsAdmin]:
    s = StreamsAdmin(stack)
    yield s
    await s.close()


@pytest_asyncio.fixture
async def tenant(admin: Admin, unique: str) -> Tenant:
    return await admin.enable(
        f"ws-poll-{unique}", "dashboard", on_create="collaborator", on_deactivate="remove"
    )


async def _poller(
    http: aiohttp.ClientSession, stack: Stack, streams: StreamsAdmin, tenant: Tenant, events: list[str]
) -> PollReceiver:
    stream = await streams.create(tenant.workspace_id, tenant.portal)
    receiver, token = await streams.add_poll(stream.id, events)
    assert token and receiver.audience == f"urn:scimsuite:receiver:{receiver.id}"
    verifier = Verifier(http, f"{stack.edge_url}{stream.jwks_path}")
    p = PollReceiver(http, stack.edge_url, token, verifier, tenant.base_url)
    p.audience = receiver.audience
    return p


async def test_poll_receiver_gets_each_change_once_with_acks(
    stack: Stack, streams: StreamsAdmin, tenant: Tenant, http: aiohttp.ClientSession, unique: str
) -> None:
    poller = await _poller(http, stack, streams, tenant, [])  # every full event and the lifecycle ones
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    users = [await okta.create_user(f"p{i}.{unique}@okta.local") for i in range(3)]
    await okta.update_user(users[0], title="Lead")
    await okta.set_active(users[1], False)
    await okta.set_active(users[1], True)
    expected = {f"/Users/{users[0]}": 2, f"/Users/{users[1]}": 3, f"/Users/{users[2]}": 1}

    async def all_polled() -> None:
        await poller.poll(max_events=2)  # small pages: several polls, each acking the previous
        got = {s: len(v) for s, v in poller.received.distinct().by_subject().items()}
        assert got == expected, got

    await assert_eventually(all_polled, timeout=30)
    await poller.poll(max_events=0)  # acknowledge the last page only
    # A SET handed out twice (its ack came after the 2 s redelivery window on a slow box) is the same SET,
    # dropped by `txn`; the subject's order holds either way.
    distinct = poller.received.distinct()
    for subject, got in distinct.by_subject().items():
        assert [version_of(c) for c in got] == list(range(1, len(got) + 1)), subject
    flips = [set(c["events"]) for c in distinct.by_subject()[f"/Users/{users[1]}"]]
    assert flips[1] == {f"{PROV}patch:full", f"{PROV}deactivate"}
    assert flips[2] == {f"{PROV}patch:full", f"{PROV}activate"}
    done = await poller.poll(immediately=True)
    assert done == {"sets": {}, "moreAvailable": False}


async def test_unacknowledged_sets_come_back_and_set_errs_settle_them(
    stack: Stack, streams: StreamsAdmin, tenant: Tenant, http: aiohttp.ClientSession, unique: str
) -> None:
    poller = await _poller(http, stack, streams, tenant, [f"{PROV}create:notice"])
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    for i in range(2):
        await okta.create_user(f"r{i}.{unique}@okta.local")

    async def both_out() -> None:
        await poller.poll(ack=False)
        assert len(poller.received.distinct().sets) == 2

    await assert_eventually(both_out, timeout=30)
    first = {c["jti"] for c in poller.received.distinct().sets}
    handed_out = len(poller.received.sets)
    poller.to_ack = []
    again: set[str] = set()

    # Not acknowledged: each is handed out again once its redelivery window (2 s here) has passed.
    async def redelivered() -> None:
        doc = await poller.poll(ack=False, immediately=False)
        again.update(doc["sets"])
        assert again == first, (again, first)

    await assert_eventually(redelivered, timeout=30)
    assert len(poller.received.sets) > handed_out
    acked, refused = sorted(first)
    status, doc = await poller.request(
        {"ack": [acked], "setErrs": {refused: {"err": "invalid_request", "description": "nope"}}}
    )
    assert status == 200 and doc["sets"] == {}, doc  # maxEvents absent: the transmitter's page, none left
    shown = await streams.get((await streams.list_first(tenant)).id)
    stats = shown.receivers[0].stats
    assert (stats.delivered, stats.failed, stats.pending) == (1, 1, 0), stats
    assert stats.last_error == "invalid_request: nope"


async def test_poll_errors_use_rfc8935_bodies(
    stack: Stack, streams: StreamsAdmin, tenant: Tenant, http: aiohttp.ClientSession
) -> None:
    poller = await _poller(http, stack, streams, tenant, [])
    status, doc = await poller.request({}, token="not-a-receiver")
    assert status == 401 and doc["err"] == "authentication_failed"
    status, doc = await poller.request({"maxEvents": -1})
    assert status == 400 and doc["err"] == "invalid_request" and "maxEvents" in doc["description"]
    status, doc = await poller.request({"ack": "jti"})
    assert status == 400 and doc["err"] == "invalid_request"
    # A long poll with nothing to deliver is bounded (3 s in the test stack) and answers an empty set.
    status, doc = await poller.request({"returnImmediately": False})
    assert (status, doc) == (200, {"sets": {}, "moreAvailable": False})
