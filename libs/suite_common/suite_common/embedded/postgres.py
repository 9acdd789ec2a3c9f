"""A throwaway or project-local PostgreSQL cluster started from real server binaries.

Binaries come from, in order: `PG_BINDIR`; Debian's /usr/lib/postgresql/<newest>/bin (it ships contrib,
so pg_trgm works); the `pgserver` wheel, copied once to a world-readable cache because initdb and postgres
refuse to run as root and the unprivileged user cannot traverse a venv under /root.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from suite_common.embedded.processes import cmdline, end_child, is_alive, port_is_free, stop_pid

_SHUTDOWN_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def _debian_bindir() -> Path | None:
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    versions = sorted(
        (p for p in root.iterdir() if (p / "bin" / "postgres").exists()), key=lambda p: int(p.name)
    )
    return versions[-1] / "bin" if versions else None


def _pgserver_bindir() -> Path | None:
    try:
        import pgserver
    except ImportError:
        return None
    package = Path(pgserver.__file__).parent
    install, libs = package / "pginstall", package.parent / "pgserver.libs"
    if not (install / "bin" / "postgres").exists():
        return None
    if os.geteuid() != 0:
        return install / "bin"
    # The binaries that link libpq (initdb, pg_basebackup, pg_rewind) find it through the RPATH
    # $ORIGIN/../../../pgserver.libs, so the copy keeps the wheel's layout: <cache>/pgserver/pginstall
    # beside <cache>/pgserver.libs.
    digest = hashlib.sha256(str(package).encode()).hexdigest()[:10]
    cache = Path(tempfile.gettempdir()) / f"scim-suite-pgbin-{digest}-wheel-layout"
    if not (cache / "pgserver" / "pginstall" / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="pgbin-", dir=tempfile.gettempdir()))
        shutil.copytree(install, staging / "pgserver" / "pginstall", symlinks=True)
        if libs.exists():
            shutil.copytree(libs, staging / "pgserver.libs", symlinks=True)
        os.chmod(staging, 0o755)
        os.chmod(staging / "pgserver", 0o755)
        try:
            staging.rename(cache)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process won the race
    return cache / "pgserver" / "pginstall" / "bin"


def postgres_bindir() -> Path:
    explicit = os.environ.get("PG_BINDIR")

    def from_env() -> Path | None:
        return Path(explicit) if explicit else None

    finders: tuple[Callable[[], Path | None], ...] = (from_env, _debian_bindir, _pgserver_bindir)
    for find in finders:  # lazily: copying the pgserver binaries is only worth it when nothing else exists
        candidate = find()
        if candidate and (candidate / "postgres").exists():
            return candidate
    raise RuntimeError(
        "no PostgreSQL binaries: install the pgserver wheel, Debian's postgresql, or set PG_BINDIR"
    )


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither 'postgres' nor 'nobody' exists")


def _traversable_by_others(path: Path) -> bool:
    for part in [path, *path.parents]:
        if part.exists() and not (part.stat().st_mode & stat.S_IXOTH):
            return False
    return True


class EmbeddedPostgres:
    """One `postgres` process with its data in `data_dir`, listening on 127.0.0.1 only (no unix socket)."""

    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.requested_dir = data_dir
        self.port_wanted = port
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.user = _run_as()
        self.data_dir = self._usable_data_dir(data_dir)

    def _usable_data_dir(self, wanted: Path) -> Path:
        # The unprivileged server user must be able to reach its data dir; a checkout under a mode-700 home
        # is not reachable, so the cluster then lives in a per-checkout folder under the temp dir.
        if self.user is None or _traversable_by_others(wanted.parent):
            return wanted
        digest = hashlib.sha256(str(wanted.resolve()).encode()).hexdigest()[:12]
        fallback = Path(tempfile.gettempdir()) / f"scim-suite-pgdata-{digest}"
        return fallback / wanted.name

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_user(self) -> dict[str, Any]:
        """Popen keyword arguments that drop root privileges (initdb and postgres refuse to run as root)."""
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def clean_orphans(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        if is_alive(pid) and "postgres" in cmdline(pid):
            stop_pid(pid, timeout=20)

    def _initdb(self, bindir: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            for folder in [self.data_dir, *self.data_dir.parents]:
                if folder == self.requested_dir.parent or str(folder) == tempfile.gettempdir():
                    break
                if folder.name.startswith("scim-suite-pgdata-") or folder == self.data_dir:
                    os.chown(folder, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.data_dir, 0o700)
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd="/",
            **self._as_user(),
        )

    def start(self, timeout: float = 60.0) -> str:
        bindir = postgres_bindir()
        self.clean_orphans()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bindir)
        self.port = self.port_wanted if self.port_wanted and port_is_free(self.port_wanted) else _free_port()
        args = [
            str(bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "listen_addresses=127.0.0.1",
        ]
        if not self.durable:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd="/",
            start_new_session=True,
            **self._as_user(),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}; see {self.data_dir}.log")
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return self.dsn
            time.sleep(0.05)
        raise RuntimeError("postgres did not become ready")

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """`smart` (SIGTERM) waits for every session to end; `fast` (SIGINT) ends sessions and checkpoints,
        as a managed restart does; `immediate` (SIGQUIT) is a crash: no checkpoint, WAL recovery at the
        next start."""
        end_child(self.process, _SHUTDOWN_SIGNALS[mode], 30)
        self.process = None

    def remove_data(self) -> None:
        """Delete the cluster (throwaway clusters in tests)."""
        target = (
            self.data_dir.parent
            if self.data_dir.parent.name.startswith("scim-suite-pgdata-")
            else self.data_dir
        )
        shutil.rmtree(target, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the postmaster, for fault-injection tests."""
        end_child(self.process, signal.SIGKILL, 30)
        self.process = None


def _free_port() -> int:
    from suite_common.embedded.processes import free_port

    return free_port()
