"""Fault injection while a load runs: SIGKILL services, restart NATS, restart or crash PostgreSQL.

Faults fire at evenly spaced points of the load's progress (acknowledged writes), so each one lands while
requests, relay batches and consumer transactions are in flight. Blocking process control runs in a thread
so the load keeps going on the event loop meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.services import ServiceProcess

from tests.reliability.harness import OwnServers
from tests.reliability.load import Model
from tests.support.stack import Stack


@dataclass
class Fault:
    name: str
    down: Callable[[], None]
    up: Callable[[], None]
    downtime_s: float


@dataclass
class FaultLog:
    injected: list[str] = field(default_factory=list)
    outage_s: dict[str, float] = field(default_factory=dict)
    # Acknowledged writes when the fault hit and when it was lifted: the load ran through every fault.
    writes_at: dict[str, tuple[int, int]] = field(default_factory=dict)


def _kill(svc: ServiceProcess) -> Fault:
    return Fault(f"kill -9 {svc.name} pid {svc.pid}", svc.kill, svc.start, 1.0)


def plan(
    stack: Stack, servers: OwnServers, *, every_replica: bool, crash_postgres: bool, kill_nats: bool
) -> list[Fault]:
    """Each service kind killed in turn (every replica, or the first), then NATS, then PostgreSQL."""
    pick: Callable[[list[ServiceProcess]], list[ServiceProcess]] = (
        (lambda s: s) if every_replica else (lambda s: s[:1])
    )
    faults = [_kill(svc) for kind in (stack.directories, stack.portals, stack.edges) for svc in pick(kind)]
    faults.append(
        Fault(
            "restart NATS" + (" (SIGKILL)" if kill_nats else ""),
            lambda: servers.stop_nats("kill" if kill_nats else "graceful"),
            servers.start_nats,
            2.0,
        )
    )
    faults.append(
        Fault(
            "restart PostgreSQL (fast shutdown)",
            lambda: servers.stop_postgres("fast"),
            servers.start_postgres,
            2.0,
        )
    )
    if crash_postgres:
        faults.append(
            Fault(
                "crash PostgreSQL (immediate shutdown, WAL recovery)",
                lambda: servers.stop_postgres("immediate"),
                servers.start_postgres,
                2.0,
            )
        )
    return faults


async def inject(faults: list[Fault], model: Model, log: FaultLog) -> None:
    """Fire fault i once the load has done i/(n+1) of its writes; each is restored after its downtime."""
    model.faults_done = False
    try:
        await _inject(faults, model, log)
    finally:
        model.faults_done = True


async def _inject(faults: list[Fault], model: Model, log: FaultLog) -> None:
    for i, fault in enumerate(faults, start=1):
        threshold = model.target * i // (len(faults) + 1)
        await model.reached(threshold)
        started = time.monotonic()
        # The name is taken before the kill: it records the pid that was killed.
        log.injected.append(fault.name)
        hit = model.writes
        await asyncio.to_thread(fault.down)
        await asyncio.sleep(fault.downtime_s)
        await asyncio.to_thread(fault.up)
        log.outage_s[fault.name] = round(time.monotonic() - started, 2)
        log.writes_at[fault.name] = (hit, model.writes)
