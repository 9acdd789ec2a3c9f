"""The suite running for real: N replicas of each service as child processes over real sockets."""

from __future__ import annotations

import secrets
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from devstack.services import ServiceProcess, wait_grpc_serving, wait_http_port
from directory.bootstrap import MIGRATIONS as DIRECTORY_MIGRATIONS
from portal_actions.bootstrap import MIGRATIONS as PORTAL_MIGRATIONS
from security_events.bootstrap import MIGRATIONS as SECURITY_EVENTS_MIGRATIONS
from suite_common.embedded.processes import free_port
from suite_common.migrations import apply_migrations


async def migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, DIRECTORY_MIGRATIONS, "directory")
        await apply_migrations(conn, PORTAL_MIGRATIONS, "portal")
        await apply_migrations(conn, SECURITY_EVENTS_MIGRATIONS, "security_events")
    finally:
        await conn.close()


@dataclass
class Stack:
    database_url: str
    nats_url: str
    replicas: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    stream: str = field(default_factory=lambda: f"SCIM_EVENTS_{uuid.uuid4().hex[:8].upper()}")
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="scim-stack-logs-")))
    directories: list[ServiceProcess] = field(default_factory=list)
    portals: list[ServiceProcess] = field(default_factory=list)
    edges: list[ServiceProcess] = field(default_factory=list)
    directory_addrs: list[str] = field(default_factory=list)
    portal_addrs: list[str] = field(default_factory=list)
    edge_urls: list[str] = field(default_factory=list)
    # security-events (issue 15): one process, started with the rest; tests may kill and restart it.
    security_events: ServiceProcess | None = None
    security_events_addr: str = ""
    security_events_metrics_url: str = ""

    @property
    def edge_url(self) -> str:
        return self.edge_urls[0]

    @property
    def directory_addr(self) -> str:
        return self.directory_addrs[0]

    @property
    def portal_addr(self) -> str:
        return self.portal_addrs[0]

    @property
    def directory_target(self) -> str:
        """Every directory replica, as a headless Service gives them in Kubernetes; edges balance per call."""
        return "ipv4:" + ",".join(self.directory_addrs)

    def _common(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "NATS_URL": self.nats_url,
            "ADMIN_TOKEN": self.admin_token,
            "EVENTS_STREAM": self.stream,
            "EVENTS_SUBJECT_PREFIX": self.stream.lower(),
            "LOG_LEVEL": "INFO",
            "SHUTDOWN_GRACE_SECONDS": "5",
            "OUTBOX_RELAY_POLL_SECONDS": "0.5",
            **self.extra_env,
        }

    def start(self) -> Stack:
        for i in range(self.replicas):
            daddr = f"127.0.0.1:{free_port()}"
            paddr = f"127.0.0.1:{free_port()}"
            d = ServiceProcess(
                "directory",
                {
                    **self._common(),
                    "DIRECTORY_GRPC_LISTEN": daddr,
                    "SCIM_PUBLIC_BASE_URL": "http://scim.test",
                },
                self.log_dir / f"directory-{i}.log",
            )
            p = ServiceProcess(
                "portal-actions",
                {**self._common(), "PORTAL_GRPC_LISTEN": paddr},
                self.log_dir / f"portal-actions-{i}.log",
            )
            d.start()
            p.start()
            self.directories.append(d)
            self.portals.append(p)
            self.directory_addrs.append(daddr)
            self.portal_addrs.append(paddr)
        self.security_events_addr = f"127.0.0.1:{free_port()}"
        metrics_port = free_port()
        self.security_events_metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        self.security_events = ServiceProcess(
            "security-events",
            {
                **self._common(),
                "SECURITY_EVENTS_GRPC_LISTEN": self.security_events_addr,
                "SECURITY_EVENTS_METRICS_PORT": str(metrics_port),
                "SCIM_PUBLIC_BASE_URL": "http://scim.test",
                "SECURITY_EVENTS_KEY_SECRET": secrets.token_urlsafe(32),
                "SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS": "true",  # loopback receivers in the tests
                "SECURITY_EVENTS_RETRY_BASE_SECONDS": "0.1",
                "SECURITY_EVENTS_RETRY_MAX_SECONDS": "1",
                "SECURITY_EVENTS_POLL_REDELIVER_SECONDS": "2",
                "SECURITY_EVENTS_POLL_MAX_WAIT_SECONDS": "3",
                "SECURITY_EVENTS_ACK_WAIT_SECONDS": "5",
                "SECURITY_EVENTS_PUSH_TIMEOUT_SECONDS": "3",
                **self.extra_env,
            },
            self.log_dir / "security-events.log",
        )
        self.security_events.start()
        for i in range(self.replicas):
            port = free_port()
            e = ServiceProcess(
                "scim-edge",
                {
                    **self.extra_env,
                    "EDGE_PORT": str(port),
                    "DIRECTORY_ADDR": self.directory_target,
                    "SECURITY_EVENTS_ADDR": self.security_events_addr,
                    "LOG_LEVEL": "INFO",
                },
                self.log_dir / f"scim-edge-{i}.log",
            )
            e.start()
            self.edges.append(e)
            self.edge_urls.append(f"http://127.0.0.1:{port}")
        for addr in [*self.directory_addrs, *self.portal_addrs, self.security_events_addr]:
            if not wait_grpc_serving(addr, 30):
                raise RuntimeError(f"{addr} not serving; logs in {self.log_dir}")
        for url in self.edge_urls:
            if not wait_http_port(int(url.rsplit(":", 1)[1]), 30):
                raise RuntimeError(f"edge {url} not listening; logs in {self.log_dir}")
        return self

    def stop(self) -> None:
        for svc in self.edges + self.portals + self.directories:
            svc.terminate()
        if self.security_events is not None:
            self.security_events.terminate()

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.log_dir.glob("*.log")))
