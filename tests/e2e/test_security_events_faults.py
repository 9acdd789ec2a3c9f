"""Issue 15 faults: under a bounded load, the receiver goes away and comes back, and the delivering
service is killed with SIGKILL mid-batch and restarted. No SET is lost; a SET is repeated only as a resend
of the same SET (same `jti` and `txn`), which the receiver drops by `txn`; each subject stays in order.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from devstack.services import wait_grpc_serving

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import Okta
from tests.support.scim_client import ScimClient
from tests.support.set_receiver import PROV, PushReceiver, StreamsAdmin, Verifier, version_of
from tests.support.stack import Stack

USERS = 24  # each created, then patched twice: 72 changes


@pytest_asyncio.fixture
async def streams(stack: Stack) -> AsyncIterator[StreamsAdmin]:
    s = StreamsAdmin(stack)
    yield s
    await s.close()


@pytest_asyncio.fixture
async def tenant(admin: Admin, unique: str) -> Tenant:
    return await admin.enable(f"ws-setf-{unique}", "store", on_create="employee", on_deactivate="remove")


async def test_receiver_outage_and_deliverer_kill_lose_nothing(
    stack: Stack, streams: StreamsAdmin, tenant: Tenant, http: aiohttp.ClientSession, unique: str
) -> None:
    stream = await streams.create(tenant.workspace_id, "store")
    verifier = Verifier(http, f"{stack.edge_url}{stream.jwks_path}")
    rcv = await PushReceiver(verifier, tenant.base_url, f"Bearer {secrets.token_urlsafe(16)}").start()
    await streams.add_push(
        stream.id, rcv.url, rcv.authorization, [f"{PROV}create:notice", f"{PROV}patch:notice"]
    )
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    limit = asyncio.Semaphore(6)

    async def one_user(i: int) -> str:
        async with limit:
            uid = await okta.create_user(f"f{i}.{unique}@okta.local")
            await okta.set_active(uid, False)
            await okta.set_active(uid, True)
            return uid

    assert stack.security_events is not None
    try:

        async def run_load() -> list[str]:
            return list(await asyncio.gather(*(one_user(i) for i in range(USERS))))

        load = asyncio.create_task(run_load())

        async def some_delivered() -> None:
            assert len(rcv.received.sets) >= 5

        await assert_eventually(some_delivered, timeout=30)
        # The receiver goes away mid-load (connections refused), then comes back on the same port.
        await rcv.stop()
        port = rcv.port
        await asyncio.sleep(0)  # let in-flight pushes see the closed port
        await rcv.start(port)

        async def more_delivered() -> None:
            assert len(rcv.received.sets) >= 20

        await assert_eventually(more_delivered, timeout=60)
        # Hold the receiver's answers so that pushes are in flight, then SIGKILL the deliverer mid-batch:
        # the held SETs reach the receiver but their 202 never reaches the dead deliverer, so they are
        # resent after their lease; leases and unacked directory events are all the kill leaves behind.
        rcv.gate = asyncio.Event()
        # One more user changed now, so some SET is pushed while the gate holds even if the load above has
        # already been delivered in full (seen once: the writes got faster, and nothing was left in flight).
        late = asyncio.create_task(one_user(USERS))

        async def pushes_in_flight() -> None:
            assert rcv.held >= 1

        await assert_eventually(pushes_in_flight, timeout=30)
        stack.security_events.kill()
        rcv.gate.set()
        stack.security_events.start()
        assert await asyncio.to_thread(wait_grpc_serving, stack.security_events_addr, 30), stack.logs()
        uids = [*await load, await late]

        expected = {f"/Users/{u}": 3 for u in uids}

        async def everything_arrived() -> None:
            got = {s: len(v) for s, v in rcv.received.distinct().by_subject().items()}
            assert got == expected, {s: n for s, n in got.items() if n != 3}

        await assert_eventually(everything_arrived, timeout=120)
        for subject, sets in rcv.received.by_subject().items():
            versions = [version_of(c) for c in sets]
            collapsed = [v for i, v in enumerate(versions) if i == 0 or versions[i - 1] != v]
            assert collapsed == [1, 2, 3], (subject, versions)
        distinct = len(rcv.received.distinct().sets)
        # Whether a held push also counts as received depends on when the receiver's handler saw its client
        # die (before or after recording it), so resends are reported, not required: what must hold is
        # that every change arrived, in order, and that any repeat is the same SET (`distinct` checks that
        # a repeated txn carries the same jti).
        assert distinct == (USERS + 1) * 3
        print(  # the figures RELIABILITY.md quotes (pytest -s)
            f"security-events faults: {(USERS + 1) * 3} changes, {distinct} distinct SETs, "
            f"{len(rcv.received.sets) - distinct} resends, {rcv.held} held at the kill, {rcv.requests} POSTs"
        )
    finally:
        await rcv.stop()
