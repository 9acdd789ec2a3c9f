"""Provisioning under fire: an Okta-shaped load while every service is SIGKILLed in turn, NATS restarts and
PostgreSQL restarts. Afterwards the directory holds exactly what was acknowledged, every portal action
happened exactly once, and the outbox is empty.

The default run is small (one kill of each service, one NATS and one PostgreSQL restart); the heavy runs
push at least 2,000 writes, kill every replica, SIGKILL NATS and also crash PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import aiohttp
import asyncpg
import pytest

from tests.reliability.client import Client
from tests.reliability.faults import FaultLog, inject, plan
from tests.reliability.harness import own_servers, record_figures, start_stack
from tests.reliability.load import Model, run_load
from tests.reliability.verify import directory_matches, outbox_pending, portal_applied_once, stream_messages
from tests.support.admin import Admin
from tests.support.eventually import assert_eventually


async def fault_run(name: str, *, replicas: int, writes: int, workers: int, heavy: bool) -> None:
    servers = own_servers(name, durable=heavy)
    stack = None
    admin = None
    try:
        stack = await start_stack(servers, replicas=replicas)
        admin = Admin(stack)
        tenant = await admin.enable(
            f"faults-{uuid.uuid4().hex[:6]}", "store", on_create="employee", on_deactivate="remove"
        )
        path = tenant.base_url.split("/scim/v2/", 1)[1]
        bases = [f"{url}/scim/v2/{path}" for url in stack.edge_urls]
        model = Model(target=writes, faults_done=False)
        log = FaultLog()
        faults = plan(stack, servers, every_replica=heavy, crash_postgres=heavy, kill_nats=heavy)
        started = time.monotonic()
        async with aiohttp.ClientSession() as session:
            # Each worker starts on a different edge; on a failure it moves on to the next one.
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

        conn = await asyncpg.connect(stack.database_url)
        try:
            directory = await directory_matches(conn, tenant.connection_id, model)
            settle_started = time.monotonic()

            async def settled() -> None:
                assert await outbox_pending(conn) == 0
                (await portal_applied_once(conn, tenant.workspace_id, model)).assert_clean()

            try:
                await assert_eventually(settled, timeout=120, interval=0.5)
            except AssertionError:
                print(stack.logs())
                raise
            settle_s = time.monotonic() - settle_started
            portal = await portal_applied_once(conn, tenant.workspace_id, model)
        finally:
            await conn.close()
        in_stream = await stream_messages(stack.nats_url, stack.stream)
        figures = {
            "replicas": replicas,
            "workers": workers,
            "acknowledged_writes": model.writes,
            "http_requests": stats["requests"],
            "unknown_outcome_attempts": stats["unknown_outcome"],
            "connection_errors": stats["connection_errors"],
            "status_503": stats["status_503"],
            "status_429": stats["status_429"],
            "faults_injected": len(log.injected),
            "faults": log.injected,
            "outage_s": log.outage_s,
            "writes_at_fault": log.writes_at,
            "stream_messages": in_stream,
            "load_seconds": round(load_s, 1),
            "settle_seconds": round(settle_s, 1),
            "lost": len(directory.lost) + len(portal.lost),
            "doubled": len(directory.doubled) + len(portal.doubled),
            "problems": len(problems),
            **directory.figures,
            **portal.figures,
        }
        record_figures(name, figures)
        assert not problems, problems[:20]
        directory.assert_clean()
        portal.assert_clean()
        assert in_stream == portal.figures["events"], "the stream holds a duplicate or misses an event"
        assert len(log.injected) == len(faults)
    finally:
        if admin is not None:
            await admin.close()
        if stack is not None:
            stack.stop()
        servers.stop()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("replicas", [1, 2])
async def test_small_load_survives_one_kill_of_each_service_and_restarts(replicas: int) -> None:
    writes = int(os.environ.get("FAULT_WRITES", "300"))
    await fault_run(f"faults-small-{replicas}x", replicas=replicas, writes=writes, workers=6, heavy=False)


@pytest.mark.heavy
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("replicas", [1, 2])
async def test_heavy_load_survives_every_replica_killed_nats_killed_postgres_crashed(replicas: int) -> None:
    writes = int(os.environ.get("FAULT_WRITES_HEAVY", "2000"))
    await fault_run(f"faults-heavy-{replicas}x", replicas=replicas, writes=writes, workers=8, heavy=True)
