"""PostgreSQL with a real failover manager on loopback: Patroni nodes coordinating through one etcd, a
primary and a standby (synchronous with `synchronous_mode`, or asynchronous), server binaries as the rest
of the suite finds them (`suite_common.embedded.postgres.postgres_bindir`).

PostgreSQL refuses to run as root, and Patroni runs it, so Patroni runs as the unprivileged account the
embedded servers use, on an interpreter and import path that account can reach (tests/ha/patroni_python).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite_common.embedded.postgres import postgres_bindir
from suite_common.embedded.processes import free_port, is_alive

from tests.ha.accounts import Account, unprivileged
from tests.ha.patroni_python import import_path, interpreter

SCOPE = "scim-ha"


def etcd_binary() -> str:
    found = shutil.which("etcd") or ("/usr/bin/etcd" if Path("/usr/bin/etcd").exists() else None)
    if not found:
        raise RuntimeError("etcd not found: run tools/ci/install-ha-deps.sh (Debian package etcd-server)")
    return found


def _get(url: str, timeout: float = 2.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body) if body.startswith(b"{") else None
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def _wait(what: str, check: Any, timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise RuntimeError(f"{what}: not reached in {timeout}s")


@dataclass
class Etcd:
    root: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        peer = f"http://127.0.0.1:{self.peer_port}"
        client = f"http://{self.endpoint}"
        log = open(self.root / "etcd.log", "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [
                etcd_binary(),
                "--name=e1",
                f"--data-dir={self.root / 'data'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=e1={peer}",
                "--initial-cluster-state=new",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        _wait("etcd healthy", lambda: _get(f"{client}/health")[1] == {"health": "true"}, 30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@dataclass
class PatroniNode:
    name: str
    root: Path
    etcd: Etcd
    synchronous: bool
    account: Account
    durable: bool = False
    pg_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def write_config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        config = {
            "scope": SCOPE,
            "name": self.name,
            "log": {"level": "INFO", "dir": str(self.root / "log")},
            "restapi": {
                "listen": f"127.0.0.1:{self.api_port}",
                "connect_address": f"127.0.0.1:{self.api_port}",
            },
            "etcd3": {"hosts": [self.etcd.endpoint]},
            "bootstrap": {
                "dcs": {
                    # Short timings keep a failover within seconds; loop_wait + 2 * retry_timeout <= ttl.
                    "ttl": 20,
                    "loop_wait": 2,
                    "retry_timeout": 5,
                    "maximum_lag_on_failover": 1048576,
                    # A crashed primary is failed over at once instead of being restarted in place for up
                    # to 5 minutes (the default): that is the behaviour under test.
                    "primary_start_timeout": 0,
                    "synchronous_mode": self.synchronous,
                    "postgresql": {
                        "use_pg_rewind": True,
                        # A crashed primary whose rewind fails (or whose timeline diverged past what
                        # pg_rewind can mend) is re-cloned from the new primary instead of staying out of
                        # the cluster: what operators configure so a node always comes back as a standby.
                        "remove_data_directory_on_rewind_failure": True,
                        "remove_data_directory_on_diverged_timelines": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "wal_log_hints": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "max_connections": 200,
                            # Only the process is killed, never the machine: the page cache survives, so
                            # skipping fsync changes nothing that the tests observe and spares the disk.
                            # bench/ha_costs.py measures commit costs with it on.
                            "fsync": "on" if self.durable else "off",
                            "full_page_writes": "on" if self.durable else "off",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C"}],
                "pg_hba": [
                    "host replication replicator 127.0.0.1/32 trust",
                    "host all all 127.0.0.1/32 trust",
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{self.pg_port}",
                "connect_address": f"127.0.0.1:{self.pg_port}",
                "data_dir": str(self.data_dir),
                "bin_dir": str(postgres_bindir()),
                "pgpass": str(self.root / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": "postgres"},
                    "replication": {"username": "replicator", "password": "replicator"},
                    "rewind": {"username": "postgres", "password": "postgres"},
                },
                "parameters": {"unix_socket_directories": str(self.root)},
                # Local settings too: Patroni versions differ in which section they read these from.
                "remove_data_directory_on_rewind_failure": True,
                "remove_data_directory_on_diverged_timelines": True,
            },
        }
        path = self.root / "patroni.yml"
        path.write_text(json.dumps(config, indent=1))  # YAML is a superset of JSON
        (self.root / "log").mkdir(exist_ok=True)
        self.account.own(self.root)
        return path

    def start(self) -> None:
        config = self.write_config()
        log = open(self.root / "patroni.out", "ab")  # noqa: SIM115 - owned by the child process
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": import_path(self.account),
            "HOME": str(self.root),
            "LC_ALL": "C.UTF-8",
        }
        self.process = subprocess.Popen(
            [interpreter(self.account), "-m", "patroni", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(self.root),
            env=env,
            start_new_session=True,
            **self.account.popen_kwargs(),
        )
        log.close()

    def status(self) -> dict[str, Any]:
        code, body = _get(f"{self.api}/patroni")
        return body if code and isinstance(body, dict) else {}

    def postmaster_pid(self) -> int | None:
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if is_alive(pid) else None

    def kill_postmaster(self) -> int:
        """kill -9 of the postmaster only: Patroni lives on, as it would on a node whose database crashed."""
        pid = self.postmaster_pid()
        assert pid is not None, f"{self.name}: no running postmaster"
        os.kill(pid, signal.SIGKILL)
        return pid

    def walsenders(self) -> list[int]:
        """The postmaster's WAL sender processes (one per streaming standby)."""
        postmaster = self.postmaster_pid()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == postmaster and b"walsender" in command:
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # Patroni stops PostgreSQL (fast shutdown) and releases its keys
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        pid = self.postmaster_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)


@dataclass
class PatroniCluster:
    root: Path
    synchronous: bool
    size: int = 2
    durable: bool = False
    account: Account = field(default_factory=unprivileged)
    etcd: Etcd = field(init=False)
    nodes: list[PatroniNode] = field(init=False)

    def __post_init__(self) -> None:
        self.etcd = Etcd(self.root / "etcd")
        self.nodes = [
            PatroniNode(
                f"pg{i + 1}",
                self.root / f"pg{i + 1}",
                self.etcd,
                self.synchronous,
                self.account,
                self.durable,
            )
            for i in range(self.size)
        ]

    def start(self, timeout: float = 120.0) -> PatroniCluster:
        self.account.own(self.root)
        self.etcd.start()
        self.nodes[0].start()  # bootstraps (initdb) and takes the leader key
        try:
            _wait(
                "first node primary",
                lambda: self.members().get(self.nodes[0].name, {}).get("role") == "leader",
                timeout,
            )
        except RuntimeError as exc:
            # Patroni's own output says why (an import error, a refused DCS, initdb), not the timeout.
            out = self.nodes[0].root / "patroni.out"
            tail = out.read_text(errors="replace")[-3000:] if out.exists() else "(no patroni.out)"
            raise RuntimeError(f"{exc}; {out}:\n{tail}") from None
        for node in self.nodes[1:]:
            node.start()  # clones the primary with pg_basebackup
        self.wait_replicated(timeout)
        return self

    def members(self) -> dict[str, dict[str, Any]]:
        """Patroni's view of the cluster (GET /cluster on any member that answers)."""
        for node in self.nodes:
            code, body = _get(f"{node.api}/cluster")
            if code == 200 and isinstance(body, dict):
                return {m["name"]: m for m in body.get("members", [])}
        return {}

    def wait_replicated(self, timeout: float = 120.0) -> None:
        """Every standby streams from the primary, and in synchronous mode one of them is the sync one."""

        def ready() -> bool:
            members = self.members()
            standbys = [m for m in members.values() if m.get("role") != "leader"]
            leaders = [m for m in members.values() if m.get("role") == "leader"]
            if len(leaders) != 1 or len(standbys) != self.size - 1:
                return False
            if not all(m.get("state") == "streaming" for m in standbys):
                return False
            return not self.synchronous or any(m.get("role") == "sync_standby" for m in standbys)

        try:
            _wait("standbys streaming", ready, timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; members: {self.members()}\n{self.logs_tail()}") from None

    def logs_tail(self, chars: int = 4000) -> str:
        """The end of every node's Patroni log: why a node did not start, rewind or stream."""
        tails = []
        for node in self.nodes:
            for path in [node.root / "patroni.out", *sorted((node.root / "log").glob("*.log"))]:
                if path.exists():
                    tails.append(f"--- {path}:\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(tails)

    def primary(self) -> PatroniNode:
        members = self.members()
        leader = next(name for name, m in members.items() if m.get("role") == "leader")
        return next(n for n in self.nodes if n.name == leader)

    def wait_new_primary(self, old: PatroniNode, timeout: float = 120.0) -> PatroniNode:
        def promoted() -> PatroniNode | None:
            members = self.members()
            for name, m in members.items():
                if m.get("role") == "leader" and name != old.name and m.get("state") == "running":
                    return next(n for n in self.nodes if n.name == name)
            return None

        node: PatroniNode = _wait(f"a primary other than {old.name}", promoted, timeout)
        return node

    def dsn(self, database: str, *, first: PatroniNode | None = None) -> str:
        """A multi-host DSN over every node, `first` listed first (a standby, to prove it is skipped)."""
        order = sorted(self.nodes, key=lambda n: n is not first) if first else self.nodes
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in order)
        return f"postgresql://postgres@{hosts}/{database}?target_session_attrs=read-write"

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()
        self.etcd.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def new_cluster(synchronous: bool, *, durable: bool = False) -> PatroniCluster:
    root = Path(tempfile.mkdtemp(prefix="scim-ha-patroni-"))
    os.chmod(root, 0o755)
    return PatroniCluster(root, synchronous, durable=durable)
