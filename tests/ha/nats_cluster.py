"""A three-node NATS JetStream cluster on loopback: real `nats-server` processes with routes between them,
each with its JetStream store in its own temporary folder, on fixed ports so a restarted node keeps the
URL the services were given.

Readiness is the server's own `/healthz` (monitoring port): it answers 200 once the node has joined the
cluster's JetStream meta group and its streams and consumers are current, so a restarted node is not
counted on before it has caught up.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.aio.client import Client
from suite_common.embedded.nats import nats_server_binary
from suite_common.embedded.processes import free_port


@dataclass
class NatsNode:
    name: str
    root: Path
    client_port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def write_config(self, peers: list[NatsNode]) -> Path:
        routes = ", ".join(f"nats-route://127.0.0.1:{p.cluster_port}" for p in peers if p is not self)
        config = self.root / f"{self.name}.conf"
        self.root.mkdir(parents=True, exist_ok=True)
        config.write_text(
            f"server_name: {self.name}\n"
            f"listen: 127.0.0.1:{self.client_port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f'jetstream {{ store_dir: "{self.root / "jetstream"}" }}\n'
            f"cluster {{\n  name: scim-ha\n  listen: 127.0.0.1:{self.cluster_port}\n"
            f"  routes: [{routes}]\n}}\n"
        )
        return config

    def start(self) -> None:
        log = open(self.root / f"{self.name}.log", "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(self.root / f"{self.name}.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no shutdown, no flush beyond what the server already wrote."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def healthy(self) -> bool:
        if not self.running:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False


async def _ignore_error(exc: Exception) -> None:
    """Connection errors to a node the test killed on purpose."""


@dataclass
class NatsCluster:
    root: Path
    size: int = 3
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.nodes = [NatsNode(f"n{i + 1}", self.root / f"n{i + 1}") for i in range(self.size)]
        for node in self.nodes:
            node.write_config(self.nodes)

    @property
    def servers(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def url(self) -> str:
        """What the services get as NATS_URL: every node, comma-separated."""
        return ",".join(self.servers)

    def node(self, name: str) -> NatsNode:
        return next(n for n in self.nodes if n.name == name)

    def start(self, timeout: float = 60.0) -> NatsCluster:
        for node in self.nodes:
            node.start()
        self.wait_healthy(self.nodes, timeout)
        return self

    def restart(self, node: NatsNode, timeout: float = 60.0) -> None:
        node.start()
        self.wait_healthy([node], timeout)

    def wait_healthy(self, nodes: list[NatsNode], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in nodes:
                if node.process is not None and node.process.poll() is not None:
                    raise RuntimeError(f"nats-server {node.name} exited; see {node.root}/{node.name}.log")
            if all(n.healthy() for n in nodes):
                return
            time.sleep(0.1)
        raise RuntimeError(f"NATS nodes {[n.name for n in nodes]} not healthy in {timeout}s")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    async def connect(self) -> Client:
        """A client of the whole cluster; a dead node in the list is skipped quietly (it is expected)."""
        return await nats.connect(
            self.servers, connect_timeout=2, max_reconnect_attempts=5, error_cb=_ignore_error
        )

    async def placement(
        self, stream: str, wait_s: float = 60.0, *, down: frozenset[str] = frozenset()
    ) -> tuple[str, list[str]]:
        """The stream's leader and its followers, by server name, once it has a leader and every replica
        is current (right after a node restarts, the stream may still be electing or catching up).

        With nodes `down`, once a node that is up leads it (the survivors have elected a new leader)."""
        deadline = time.monotonic() + wait_s
        last: object = None
        while time.monotonic() < deadline:
            nc = await self.connect()
            try:
                info = await nc.jetstream().stream_info(stream)
            except Exception as exc:  # no leader yet: JetStream answers with a timeout or a 503
                last = exc
                continue
            finally:
                await nc.close()
            cluster = info.cluster
            replicas = (cluster.replicas or []) if cluster else []
            names = [r.name for r in replicas if r.name]
            if down and cluster and cluster.leader and cluster.leader not in down:
                return cluster.leader, names
            if (
                cluster
                and cluster.leader
                and len(replicas) == self.size - 1
                and all(r.current for r in replicas)
            ):
                return cluster.leader, names
            last = cluster
            await asyncio.sleep(0.2)
        raise RuntimeError(f"stream {stream} not led and current in {wait_s}s: {last}")
