"""Servers and stacks a fault test may break: its own PostgreSQL and NATS on fixed ports, so that a restart
keeps the URLs the services were started with, plus the measured figures each run reports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from suite_common.embedded import EmbeddedNats, EmbeddedPostgres
from suite_common.embedded.processes import free_port

from tests.support.stack import Stack, migrate

# Fast redelivery after a killed consumer, and quick relay polling, keep the settle time of a run short.
# The load deactivates users in bulk on purpose: the mass-deactivation guard would hold its removals.
FAULT_ENV = {
    "PORTAL_ACK_WAIT_SECONDS": "5",
    "OUTBOX_RELAY_POLL_SECONDS": "0.2",
    "PORTAL_GUARD_DEFAULT": "off",
}


@dataclass
class OwnServers:
    """PostgreSQL and NATS owned by one test module, restartable in place."""

    root: Path
    durable: bool = False
    pg: EmbeddedPostgres = field(init=False)
    nats: EmbeddedNats = field(init=False)
    nats_url: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.pg = EmbeddedPostgres(self.root / "pg", port=free_port(), durable=self.durable)
        self.nats = EmbeddedNats(self.root / "nats", port=free_port())

    @property
    def admin_dsn(self) -> str:
        return self.pg.dsn

    def start(self) -> OwnServers:
        self.pg.start()
        self.nats_url = self.nats.start()
        return self

    def stop(self) -> None:
        self.nats.stop()
        self.stop_postgres("fast")
        self.pg.remove_data()  # running as root, the cluster lives outside `root` (see EmbeddedPostgres)
        shutil.rmtree(self.root, ignore_errors=True)

    def stop_postgres(self, mode: str = "fast") -> None:
        """`fast` (SIGINT) ends sessions and checkpoints, as a managed restart does; `immediate` (SIGQUIT)
        is a crash: no checkpoint, WAL recovery at the next start. (SIGTERM waits for pooled sessions.)"""
        proc = self.pg.process
        if proc is None or proc.poll() is not None:
            self.pg.process = None
            return
        proc.send_signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.pg.process = None

    def start_postgres(self) -> None:
        _retry_spawn(self.pg.start)

    def stop_nats(self, mode: str = "graceful") -> None:
        if mode == "kill":
            self.nats.kill()
            self.nats.process = None
        else:
            self.nats.stop()

    def start_nats(self) -> None:
        url = _retry_spawn(self.nats.start)
        assert url == self.nats_url, f"NATS came back on {url}, services use {self.nats_url}"

    async def database(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        base = self.admin_dsn.rpartition("/")[0]
        dsn = f"{base}/{name}"
        await migrate(dsn)
        return dsn


def _retry_spawn(start: Callable[[], str]) -> str:
    """Start a server, again if the child died before it could exec: this process holds gRPC channels,
    and a fork() racing gRPC's threads can abort in gRPC's at-fork handler ("postgres exited with -6")."""
    for attempt in range(3):
        try:
            return start()
        except RuntimeError:
            if attempt == 2:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def own_servers(prefix: str, *, durable: bool = False) -> OwnServers:
    return OwnServers(Path(tempfile.mkdtemp(prefix=f"scim-{prefix}-")), durable=durable).start()


async def start_stack(servers: OwnServers, *, replicas: int = 1, env: dict[str, str] | None = None) -> Stack:
    dsn = await servers.database("reliability")
    return Stack(dsn, servers.nats_url, replicas=replicas, extra_env={**FAULT_ENV, **(env or {})}).start()


def record_figures(name: str, figures: dict[str, Any]) -> Path:
    """Write what a run measured, so RELIABILITY.md can quote the last run (printed too, for `-s`)."""
    folder = Path(
        os.environ.get(
            "RELIABILITY_FIGURES_DIR", Path(__file__).resolve().parents[2] / ".run" / "reliability"
        )
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    payload = {"test": name, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **figures}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    print(f"\n[figures] {name}: {json.dumps(figures, sort_keys=True)}")
    return path
