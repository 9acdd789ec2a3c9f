"""A rolling restart under load: SIGTERM to a replica of each service while users are being created.

Load runs through both edges the way an Ingress spreads it, and the edges spread their calls over both
directory replicas (gRPC round_robin, as with the headless Service in Kubernetes). One replica of each
service is then stopped with SIGTERM, as `kubectl rollout restart` would: the directory first, then
portal-actions, then an edge, taken out of rotation just before its SIGTERM as the endpoint controller
does. Every request must succeed, every stopped process must exit cleanly after draining, and every
acknowledged user must exist once in the directory and once as a Store employee.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from devstack.services import ServiceProcess
from scimsuite.admin.v1 import admin_pb2

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.stack import Stack, stack_fixture

WORKERS = 6
MAX_REQUESTS_PER_WORKER = 200  # bounds the load whatever happens
STEP = 15  # acknowledged creates between two stops


rolling = stack_fixture(
    "rollout",
    replicas=2,
    # The load is one tenant at full speed; the per-token rate limit is not what is tested here.
    env={"EDGE_RATE_LIMIT_PER_SECOND": "100000", "EDGE_RATE_LIMIT_BURST": "100000"},
)


@dataclass
class Load:
    """Creates users until stopped; a request counts only when its 201 arrives."""

    session: aiohttp.ClientSession
    tenant: Tenant
    edges: list[str]
    acknowledged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    spans: list[tuple[str, float, float, int]] = field(default_factory=list)  # (edge, start, end, status)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    busy: Counter[str] = field(default_factory=Counter)  # requests in flight now, per edge

    def url(self, edge: str) -> str:
        return f"{edge}/scim/v2/{self.tenant.base_url.split('/scim/v2/', 1)[1]}/Users"

    async def worker(self, w: int) -> None:
        headers = {"Authorization": f"Bearer {self.tenant.token}", "Content-Type": "application/scim+json"}
        for i in range(MAX_REQUESTS_PER_WORKER):
            if self.stop.is_set():
                return
            user = f"rollout-{w}-{i}@example.com"
            body = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user,
                "active": True,
            }
            edge = self.edges[(w + i) % len(self.edges)]
            start = time.monotonic()
            self.busy[edge] += 1
            try:
                async with self.session.post(self.url(edge), json=body, headers=headers) as resp:
                    text = await resp.text()
                    status = resp.status
            except aiohttp.ClientError as exc:
                self.failures.append(f"{user} via {edge}: {exc!r}")
                continue
            finally:
                self.busy[edge] -= 1
            self.spans.append((edge, start, time.monotonic(), status))
            if status == 201:
                self.acknowledged.append(user)
            else:
                self.failures.append(f"{user} via {edge}: {status} {text[:200]}")

    async def grows_by(self, n: int) -> None:
        target = len(self.acknowledged) + n

        async def reached() -> None:
            assert len(self.acknowledged) >= target, (len(self.acknowledged), self.failures[:3])

        await assert_eventually(reached, timeout=30)

    async def busy_on(self, edge: str) -> None:
        async def busy() -> None:
            assert self.busy[edge] > 0

        await assert_eventually(busy, interval=0.001)

    def in_flight_at(self, moment: float, edge: str | None = None) -> list[int]:
        return [s for e, a, b, s in self.spans if a < moment < b and (edge is None or e == edge)]


async def exited_cleanly(svc: ServiceProcess) -> None:
    async def exited() -> None:
        assert svc.process is not None and svc.process.poll() is not None, f"{svc.name} still running"

    await assert_eventually(exited, timeout=30)
    assert svc.process is not None
    assert svc.process.returncode == 0, f"{svc.name} exit {svc.process.returncode}"


def sigterm(svc: ServiceProcess) -> float:
    assert svc.process is not None
    svc.process.send_signal(signal.SIGTERM)
    return time.monotonic()


async def test_sigterm_to_a_replica_of_each_service_under_load_loses_nothing(rolling: Stack) -> None:
    admin = Admin(rolling)  # talks to replica 0 of the directory and of portal-actions, which stay up
    # A new connection per request: a refused connection then means "never reached", never "maybe handled".
    connector = aiohttp.TCPConnector(force_close=True, limit=WORKERS * 2)
    try:
        tenant = await admin.enable("rollout", "store", on_create="employee")
        async with aiohttp.ClientSession(connector=connector) as session:
            load = Load(session, tenant, list(rolling.edge_urls))
            workers = [asyncio.create_task(load.worker(w)) for w in range(WORKERS)]
            try:
                await load.grows_by(STEP)
                directory_stopped = sigterm(rolling.directories[1])
                await load.grows_by(STEP)
                sigterm(rolling.portals[1])
                await load.grows_by(STEP)
                leaving = rolling.edge_urls[1]
                await load.busy_on(leaving)
                load.edges.remove(leaving)  # out of the endpoints first, as Kubernetes does
                edge_stopped = sigterm(rolling.edges[1])
                await load.grows_by(STEP)
            finally:
                load.stop.set()
                await asyncio.gather(*workers)

        assert load.failures == []
        # The stops really happened under load: requests were in flight at those moments, and succeeded.
        during_directory_stop = load.in_flight_at(directory_stopped)
        during_edge_stop = load.in_flight_at(edge_stopped, leaving)
        assert during_directory_stop and set(during_directory_stop) == {201}
        assert during_edge_stop and set(during_edge_stop) == {201}
        for svc in (rolling.directories[1], rolling.portals[1], rolling.edges[1]):
            await exited_cleanly(svc)

        acknowledged = set(load.acknowledged)
        assert len(acknowledged) == len(load.acknowledged) >= 4 * STEP
        reply = await admin.directory.ListUsers(
            admin_pb2.ListDirectoryResourcesRequest(workspace=tenant.workspace_id, portal="store"),
            metadata=admin.md,
        )
        in_directory = Counter(u.user_name for u in reply.users)
        assert set(in_directory) == acknowledged and set(in_directory.values()) == {1}

        async def every_user_is_an_employee() -> None:
            accounts = await admin.accounts(tenant)
            assert {n for n, a in accounts.items() if a["status"] == "active"} == acknowledged

        await assert_eventually(every_user_is_an_employee, timeout=60)
        created = Counter(e.user_name for e in await admin.audit(tenant) if e.action == "create-employee")
        assert set(created) == acknowledged and set(created.values()) == {1}
    finally:
        await admin.close()
