"""Servers and stacks a fault test may break: its own PostgreSQL and NATS on fixed ports, so that a restart
keeps the URLs the services were started with, plus the measured figures each run reports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from devstack.stack import Stack, migrate
from suite_common.embedded import EmbeddedServers, throwaway_servers

# Fast redelivery after a killed consumer, and quick relay polling, keep the settle time of a run short.
# The load deactivates users in bulk on purpose: the mass-deactivation guard would hold its removals.
FAULT_ENV = {
    "PORTAL_ACK_WAIT_SECONDS": "5",
    "OUTBOX_RELAY_POLL_SECONDS": "0.2",
    "PORTAL_GUARD_DEFAULT": "off",
}

# PostgreSQL and NATS owned by one test module, restartable in place (`stop_postgres("immediate")`, ...).
OwnServers = EmbeddedServers


def own_servers(prefix: str, *, durable: bool = False) -> EmbeddedServers:
    """Started; `.stop()` removes them with their data."""
    return throwaway_servers(prefix, durable=durable, fixed_ports=True).start()


async def start_stack(
    servers: EmbeddedServers, *, replicas: int = 1, env: dict[str, str] | None = None
) -> Stack:
    """A stack with FAULT_ENV on a new database of `servers` (removed with the servers)."""
    dsn = await servers.create_database("reliability")
    await migrate(dsn)
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
