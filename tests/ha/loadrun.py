"""One Okta-shaped provisioning run under a list of faults, checked for 0 lost and 0 doubled.

The pieces are tests/reliability's (the IdP-like client, the load and its model, the fault injector and
the verdicts); what differs here is which faults fire and where the database and the stream live.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from tests.reliability.client import Client
from tests.reliability.faults import Fault, FaultLog, inject
from tests.reliability.load import Model, run_load
from tests.reliability.verify import Verdict, directory_matches, outbox_pending, portal_applied_once
from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.stack import Stack


@dataclass
class RunOutcome:
    figures: dict[str, Any]
    directory: Verdict
    portal: Verdict
    tenant: Tenant
    problems: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.problems, self.problems[:20]
        self.directory.assert_clean()
        self.portal.assert_clean()


async def provisioning_run(
    stack: Stack,
    faults: list[Fault],
    *,
    writes: int,
    workers: int,
    verify_dsn: str,
    settle_timeout_s: float = 120.0,
    after_load: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> RunOutcome:
    """Run the load while `faults` fire, wait for the portal to settle, and compare with the model.

    `verify_dsn` must reach the current primary (a multi-host DSN with target_session_attrs=read-write
    does, whichever node that is after a failover)."""
    admin = Admin(stack)
    try:
        tenant = await admin.enable(
            f"ha-{uuid.uuid4().hex[:6]}", "store", on_create="employee", on_deactivate="remove"
        )
    finally:
        await admin.close()
    path = tenant.base_url.split("/scim/v2/", 1)[1]
    bases = [f"{url}/scim/v2/{path}" for url in stack.edge_urls]
    model = Model(target=writes, faults_done=False)
    log = FaultLog()
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        clients = [
            Client(session, bases[i % len(bases) :] + bases[: i % len(bases)], tenant.token)
            for i in range(workers)
        ]
        injector = asyncio.create_task(inject(faults, model, log))
        await run_load(clients, model, run=uuid.uuid4().hex[:6])
        await injector
    load_s = time.monotonic() - started
    stats = sum((c.stats for c in clients), start=type(clients[0].stats)())
    problems = [p for c in clients for p in c.problems]

    conn = await asyncpg.connect(verify_dsn)
    try:
        directory = await directory_matches(conn, tenant.connection_id, model)
        settle_started = time.monotonic()

        async def settled() -> None:
            assert await outbox_pending(conn) == 0
            (await portal_applied_once(conn, tenant.workspace_id, model)).assert_clean()

        try:
            await assert_eventually(settled, timeout=settle_timeout_s, interval=0.5)
        except AssertionError:
            print(stack.logs())
            raise
        settle_s = time.monotonic() - settle_started
        portal = await portal_applied_once(conn, tenant.workspace_id, model)
        outbox_left = await outbox_pending(conn)
        if after_load is not None:
            await after_load(conn)
    finally:
        await conn.close()
    figures = {
        "replicas": stack.replicas,
        "workers": workers,
        "acknowledged_writes": model.writes,
        "http_requests": stats["requests"],
        "unknown_outcome_attempts": stats["unknown_outcome"],
        "connection_errors": stats["connection_errors"],
        "status_503": stats["status_503"],
        "status_429": stats["status_429"],
        "faults": log.injected,
        "outage_s": log.outage_s,
        "writes_at_fault": log.writes_at,
        "load_seconds": round(load_s, 1),
        "settle_seconds": round(settle_s, 1),
        "outbox_left": outbox_left,
        "lost": len(directory.lost) + len(portal.lost),
        "doubled": len(directory.doubled) + len(portal.doubled),
        "problems": len(problems),
        **directory.figures,
        **portal.figures,
    }
    assert len(log.injected) == len(faults), "the load ended before every fault fired"
    return RunOutcome(figures, directory, portal, tenant, problems)
