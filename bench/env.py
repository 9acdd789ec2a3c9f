"""The systems under test, started for one benchmark run and torn down after it.

Our suite runs as in production (three service processes over real sockets, durable PostgreSQL, JetStream)
via the test support `Stack`; nothing here changes service code or configuration beyond what an operator
would set through the environment.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from suite_common.embedded import EmbeddedNats, EmbeddedPostgres
from suite_common.migrations import ensure_database

from tests.support.stack import Stack, migrate

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
    admin_dsn: str
    dsn: str
    nats_url: str
    pg: EmbeddedPostgres
    nats: EmbeddedNats
    workdir: Path


@contextmanager
def infrastructure(durable: bool = True) -> Iterator[Infra]:
    """A fresh PostgreSQL cluster and nats-server in a temp dir, removed afterwards.

    `durable=True` keeps fsync and synchronous_commit on: the point of the asyncpg baseline is the floor
    cost of durable writes on this box, so both sides must pay it.
    """
    workdir = Path(tempfile.mkdtemp(prefix="scim-bench-"))
    pg = EmbeddedPostgres(workdir / "pg", durable=durable)
    nats = EmbeddedNats(workdir / "nats")
    try:
        admin_dsn = pg.start()
        nats_url = nats.start()
        import asyncio

        asyncio.run(_prepare(admin_dsn))
        dsn = admin_dsn.rsplit("/", 1)[0] + "/scimbench"
        yield Infra(admin_dsn, dsn, nats_url, pg, nats, workdir)
    finally:
        nats.stop()
        pg.stop()
        pg.remove_data()
        shutil.rmtree(workdir, ignore_errors=True)


async def _prepare(admin_dsn: str) -> None:
    await ensure_database(admin_dsn, "scimbench")
    await migrate(admin_dsn.rsplit("/", 1)[0] + "/scimbench")


@contextmanager
def suite_stack(infra: Infra) -> Iterator[Stack]:
    stack = Stack(infra.dsn, infra.nats_url, extra_env=dict(STACK_ENV)).start()
    try:
        yield stack
    finally:
        stack.stop()


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
