"""The systems under test, started for one benchmark run and torn down after it.

Our suite runs as in production (three service processes over real sockets, durable PostgreSQL, JetStream)
as `devstack.stack.running_stack` starts it for the tests too; nothing here changes service code or
configuration beyond what an operator would set through the environment.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devstack.stack import Stack, running_stack
from suite_common.embedded import EmbeddedServers, throwaway_servers

from bench.noise import NoiseMeter

# The edge's per-tenant rate limiter exists to protect the service from one noisy IdP; a benchmark that
# measures capacity must not be throttled by it. Tracing is off (as in a default deployment), and logs are
# kept at WARNING so that both servers do the same logging work (uvicorn runs with --no-access-log).
STACK_ENV = {
    "EDGE_RATE_LIMIT_PER_SECOND": "1000000",
    "EDGE_RATE_LIMIT_BURST": "1000000",
    "OTEL_SDK_DISABLED": "true",
    "LOG_LEVEL": "WARNING",
    # The relay is woken by LISTEN/NOTIFY; the poll period only matters if a notification is lost.
    "OUTBOX_RELAY_POLL_SECONDS": "0.5",
    # The benchmark deactivates users in bulk on purpose: the mass-deactivation guard would hold them.
    "PORTAL_GUARD_DEFAULT": "off",
}


@dataclass
class Infra:
    servers: EmbeddedServers
    workdir: Path

    @property
    def pg_pid(self) -> int | None:
        return self.servers.pg.process.pid if self.servers.pg and self.servers.pg.process else None

    @property
    def nats_pid(self) -> int | None:
        return self.servers.nats.process.pid if self.servers.nats and self.servers.nats.process else None


@contextmanager
def infrastructure(durable: bool = True) -> Iterator[Infra]:
    """A fresh PostgreSQL cluster and nats-server in a temp dir, removed afterwards.

    `durable=True` keeps fsync and synchronous_commit on: the point of the asyncpg baseline is the floor
    cost of durable writes on this box, so both sides must pay it.
    """
    with throwaway_servers("bench", durable=durable) as servers:
        yield Infra(servers, servers.root)


@asynccontextmanager
async def suite_stack(infra: Infra) -> AsyncIterator[Stack]:
    """Our stack on a new migrated database of `infra` (its DSN is `stack.database_url`)."""
    async with running_stack(infra.servers, "scimbench", env=STACK_ENV) as stack:
        yield stack


def meter_suite(meter: NoiseMeter, infra: Infra, stack: Stack) -> None:
    """Count every process a change passes through as the suite's: PostgreSQL and NATS, the first replica
    of each service, and security-events, which reads every event too."""
    assert infra.pg_pid is not None and infra.nats_pid is not None
    meter.add("postgres", infra.pg_pid)
    meter.add("nats", infra.nats_pid)
    meter.add("scim-edge", stack.edges[0].pid)
    meter.add("directory", stack.directories[0].pid)
    meter.add("portal-actions", stack.portals[0].pid)
    if stack.security_events is not None:
        meter.add("security-events", stack.security_events.pid)


def vm_hwm_kib(pid: int) -> int | None:
    """Peak resident set size of a live process (VmHWM), in KiB; None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count() or "?"),
        "cpu": cpu or platform.processor(),
        "python": sys.version.split()[0],
        "kernel": platform.release(),
        "loadavg_at_start": load,
        "git": _git_head(),
    }


def _git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        return out.stdout.strip()
    except OSError:
        return "?"
