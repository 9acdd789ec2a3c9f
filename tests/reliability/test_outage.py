"""While a dependency is down the edge answers 503 with a SCIM error body and `Retry-After`, and once the
dependency is back it serves again by itself: no service is restarted (their pids are checked).

NATS is not a dependency of the SCIM API at all: while it is down writes are acknowledged and wait in the
outbox, and they reach the portal once it is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import pytest_asyncio

from tests.reliability.harness import OwnServers, own_servers, record_figures, start_stack
from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.scim_client import ScimClient, ScimResponse
from tests.support.stack import Stack

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
FIGURES: dict[str, float | int] = {}


@dataclass
class Outage:
    servers: OwnServers
    stack: Stack
    admin: Admin
    tenant: Tenant
    scim: ScimClient

    def pids(self) -> list[int]:
        return [s.pid for s in self.stack.directories + self.stack.portals + self.stack.edges]


@pytest_asyncio.fixture(scope="module")
async def outage() -> AsyncIterator[Outage]:
    servers = own_servers("outage")
    stack = await start_stack(servers, env={"EDGE_RPC_TIMEOUT_SECONDS": "10"})
    admin = Admin(stack)
    try:
        tenant = await admin.enable(
            f"outage-{uuid.uuid4().hex[:6]}", "store", on_create="employee", on_deactivate="remove"
        )
        async with aiohttp.ClientSession() as session:
            yield Outage(servers, stack, admin, tenant, ScimClient(session, stack.edge_url, tenant))
    finally:
        await admin.close()
        stack.stop()
        servers.stop()
        if FIGURES:
            record_figures("outage", FIGURES)


def assert_unavailable(resp: ScimResponse) -> None:
    assert resp.status == 503, resp
    assert resp.headers["Content-Type"].startswith("application/scim+json"), resp.headers
    assert resp.json["schemas"] == [ERROR_URN] and resp.json["status"] == "503" and resp.json["detail"], resp
    assert resp.headers["Retry-After"].isdigit() and int(resp.headers["Retry-After"]) >= 1, resp.headers


async def recovers(scim: ScimClient, name: str) -> None:
    """Record the seconds (and failed tries) until a write and a read succeed again, nothing restarted."""
    started = time.monotonic()
    failed = 0

    async def serving() -> None:
        nonlocal failed
        failed += 1
        created = await scim.post("/Users", {"userName": f"back-{uuid.uuid4().hex[:8]}@outage.test"})
        assert created.status == 201, created
        found = await scim.get(f"/Users/{created.json['id']}")
        assert found.status == 200, found

    await assert_eventually(serving, timeout=60, interval=0.2)
    FIGURES[f"{name}_recovery_seconds"] = round(time.monotonic() - started, 2)
    FIGURES[f"{name}_failed_tries_before_recovery"] = failed - 1


async def test_postgres_down_gives_503_and_the_edge_recovers_by_itself(outage: Outage) -> None:
    pids = outage.pids()
    assert (await outage.scim.post("/Users", {"userName": "before-pg@outage.test"})).status == 201
    outage.servers.stop_postgres("fast")
    try:
        started = time.monotonic()
        for resp in (
            await outage.scim.get("/Users", params={"filter": 'userName eq "before-pg@outage.test"'}),
            await outage.scim.post("/Users", {"userName": "during-pg@outage.test"}),
            await outage.scim.patch(
                "/Users/00000000-0000-0000-0000-000000000000",
                {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "value": {"active": False}}],
                },
            ),
        ):
            assert_unavailable(resp)
        FIGURES["postgres_down_503_seconds_for_3_requests"] = round(time.monotonic() - started, 2)
    finally:
        outage.servers.start_postgres()
    await recovers(outage.scim, "postgres")
    assert outage.pids() == pids, "a service was restarted"
    # The request refused during the outage left nothing behind.
    listing = await outage.scim.get("/Users", params={"filter": 'userName eq "during-pg@outage.test"'})
    assert listing.json["totalResults"] == 0


async def test_directory_down_gives_503_and_the_edge_reconnects_by_itself(outage: Outage) -> None:
    edge_pid = outage.stack.edges[0].pid
    directory = outage.stack.directories[0]
    directory.kill()
    try:
        assert_unavailable(await outage.scim.get("/Users"))
        assert_unavailable(await outage.scim.post("/Users", {"userName": "during-dir@outage.test"}))
        async with outage.scim.session.get(f"{outage.stack.edge_url}/readyz") as ready:
            assert ready.status == 503
    finally:
        directory.start()
    await recovers(outage.scim, "directory")
    assert outage.stack.edges[0].pid == edge_pid and outage.stack.edges[0].alive(), "the edge was restarted"


async def test_nats_down_writes_are_kept_and_delivered_after(outage: Outage) -> None:
    pids = outage.pids()
    outage.servers.stop_nats()
    try:
        created = await outage.scim.post("/Users", {"userName": "during-nats@outage.test", "active": True})
        assert created.status == 201, created
        conn = await asyncpg.connect(outage.stack.database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM directory.outbox") >= 1
        finally:
            await conn.close()
    finally:
        outage.servers.start_nats()
    started = time.monotonic()

    async def delivered() -> None:
        accounts = await outage.admin.accounts(outage.tenant)
        assert accounts.get("during-nats@outage.test", {}).get("status") == "active", accounts

    await assert_eventually(delivered, timeout=60, interval=0.2)
    FIGURES["nats_backlog_delivered_seconds"] = round(time.monotonic() - started, 2)
    assert outage.pids() == pids, "a service was restarted"
