"""The suite running for real: N replicas of each service as child processes over real sockets, on a
database of its own. One implementation for `make run`'s migrations, the tests and the benchmark.

`running_stack(servers, "name")` is the whole life of one: create a database, migrate it, start the
services, and at the end stop them and drop the database. A stack whose services all exit cleanly removes
its logs; otherwise (or when the caller asks) the logs are kept and their folder is printed.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from directory import bootstrap as directory_bootstrap
from portal_actions import bootstrap as portal_bootstrap
from security_events import bootstrap as security_events_bootstrap
from suite_common.embedded import EmbeddedServers
from suite_common.embedded.processes import free_port

from devstack.services import ServiceProcess, wait_grpc_serving, wait_http_port


async def migrate(database_url: str) -> None:
    """Every service's migrations, as each service applies its own at start."""
    await directory_bootstrap.migrate(database_url)
    await portal_bootstrap.migrate(database_url)
    await security_events_bootstrap.migrate(database_url)


@asynccontextmanager
async def migrated_database(servers: EmbeddedServers, prefix: str) -> AsyncIterator[str]:
    """A new database with every migration applied, dropped on exit; yields its DSN."""
    dsn = await servers.create_database(prefix)
    try:
        await migrate(dsn)
        yield dsn
    finally:
        await servers.drop_database(dsn)


def _no_reason() -> str:
    return ""


@asynccontextmanager
async def running_stack(
    servers: EmbeddedServers,
    prefix: str,
    *,
    replicas: int = 1,
    env: Mapping[str, str] | None = None,
    keep_logs: Callable[[], str] = _no_reason,
) -> AsyncIterator[Stack]:
    """A stack on its own migrated database (named `<prefix>_<random>`), stopped and dropped on exit.

    `env` is added to every service's environment; `keep_logs` is asked at the end for a reason to keep
    the logs even if every service exited cleanly ("" for none; a test fixture gives one when a test
    failed meanwhile).
    """
    async with migrated_database(servers, prefix) as dsn:
        stack = Stack(dsn, servers.nats_url, replicas=replicas, extra_env=dict(env or {})).start()
        try:
            yield stack
        finally:
            # Off the loop: services still talk to whatever the caller serves on it while they drain.
            await asyncio.to_thread(stack.stop, keep_logs_because=keep_logs())


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
    consoles: list[ServiceProcess] = field(default_factory=list)
    console_urls: list[str] = field(default_factory=list)
    # security-events (issue 15): one process whatever `replicas`; tests may kill and restart it.
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

    @property
    def services(self) -> list[ServiceProcess]:
        # Stopped in reverse: consoles and edges first, the directory last.
        events = [self.security_events] if self.security_events is not None else []
        return self.directories + self.portals + events + self.edges + self.consoles

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
        """Start every service and wait until each serves; on failure stop what started, keep the logs."""
        try:
            self._spawn()
            self._wait_ready()
        except BaseException:
            self.stop(keep_logs_because="the stack did not start")
            raise
        return self

    def _spawn(self) -> None:
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
            self.directories.append(d)
            p.start()
            self.portals.append(p)
            self.directory_addrs.append(daddr)
            self.portal_addrs.append(paddr)
        self._spawn_security_events()
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

    def _spawn_security_events(self) -> None:
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
                # The dev switch: receivers in the tests listen on http://127.0.0.1.
                "SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS": "true",
                # Short bounds, so that retries, redeliveries and leases play out within a test.
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

    def _wait_ready(self) -> None:
        for addr in [*self.directory_addrs, *self.portal_addrs, self.security_events_addr]:
            if not wait_grpc_serving(addr, 30):
                raise RuntimeError(f"{addr} not serving; logs in {self.log_dir}")
        for url in self.edge_urls:
            if not wait_http_port(int(url.rsplit(":", 1)[1]), 30):
                raise RuntimeError(f"edge {url} not listening; logs in {self.log_dir}")
        # A port that answers may be a stranger's, if ours failed to bind it: every service must still run.
        dead = [f"{svc.name} pid {svc.pid}" for svc in self.services if not svc.alive()]
        if dead:
            raise RuntimeError(f"exited while starting: {', '.join(dead)}; logs in {self.log_dir}")

    def start_console(self, extra_env: Mapping[str, str] | None = None) -> str:
        """Start one admin console over the first directory and portal-actions; returns its URL."""
        port = free_port()
        console = ServiceProcess(
            "admin-console",
            {
                "CONSOLE_PORT": str(port),
                "DIRECTORY_ADMIN_ADDR": self.directory_addr,
                "PORTAL_ADDR": self.portal_addr,
                "SECURITY_EVENTS_ADMIN_ADDR": self.security_events_addr,
                "ADMIN_TOKEN": self.admin_token,
                "CONSOLE_SESSION_SECRET": secrets.token_urlsafe(32),
                "LOG_LEVEL": "INFO",
                **(extra_env or {}),
            },
            self.log_dir / f"admin-console-{len(self.consoles)}.log",
        )
        console.start()
        self.consoles.append(console)
        if not wait_http_port(port, 30):
            raise RuntimeError(f"admin console not listening; logs in {self.log_dir}")
        url = f"http://127.0.0.1:{port}"
        self.console_urls.append(url)
        return url

    def stop(self, *, keep_logs_because: str = "") -> Path | None:
        """SIGTERM every service (edges first, so no request reaches a stopped directory) and wait.

        When every service exited with 0 and there is no `keep_logs_because`, the log folder is removed;
        otherwise it is kept, named on stderr with the reason, and returned.
        """
        exits = [(svc, svc.terminate()) for svc in reversed(self.services)]
        unclean = [f"{svc.name} pid {svc.pid} ({code})" for svc, code in exits if code not in (0, None)]
        reasons = ([f"exited uncleanly: {', '.join(unclean)}"] if unclean else []) + (
            [keep_logs_because] if keep_logs_because else []
        )
        if not reasons:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            return None
        print(f"\n[stack] logs kept in {self.log_dir} ({'; '.join(reasons)})", file=sys.stderr)
        return self.log_dir

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.log_dir.glob("*.log")))
