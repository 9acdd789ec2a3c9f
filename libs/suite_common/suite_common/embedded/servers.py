"""PostgreSQL and NATS JetStream as one pair, for `make run`, the tests and the benchmark alike.

Either server may instead be an existing one given by URL (`admin_dsn=` / `nats_url=`): then it is only
used, never started, stopped or removed. Each database a caller asks for gets its own name, so runs that
share one server never see each other's rows.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar

import asyncpg

from suite_common.embedded.nats import EmbeddedNats
from suite_common.embedded.postgres import EmbeddedPostgres
from suite_common.embedded.processes import free_port
from suite_common.migrations import ensure_database

T = TypeVar("T")


class EmbeddedServers:
    """A PostgreSQL cluster in `root/pgdata` and a nats-server with its store in `root/nats`.

    `pg_port` / `nats_port` are used when free (else a free port is taken at each start): a fault test
    passes fixed ports so that a restarted server comes back at the URL the services were started with.
    `throwaway` servers delete their data and `root` when stopped; `make run` keeps its state.
    """

    def __init__(
        self,
        root: Path,
        *,
        durable: bool = False,
        pg_port: int | None = None,
        nats_port: int | None = None,
        admin_dsn: str = "",
        nats_url: str = "",
        throwaway: bool = True,
    ) -> None:
        self.root = root
        self.durable = durable
        self.throwaway = throwaway
        self.pg = None if admin_dsn else EmbeddedPostgres(root / "pgdata", port=pg_port, durable=durable)
        self.nats = None if nats_url else EmbeddedNats(root / "nats", port=nats_port)
        self._admin_dsn = admin_dsn
        self.nats_url = nats_url

    @property
    def admin_dsn(self) -> str:
        """The maintenance database's DSN, from which databases are created and dropped."""
        return self.pg.dsn if self.pg is not None else self._admin_dsn

    def dsn_for(self, database: str) -> str:
        base, _, _ = self.admin_dsn.rpartition("/")
        return f"{base}/{database}"

    # -- whole pair ------------------------------------------------------------------------------------

    def start(self) -> EmbeddedServers:
        try:
            if self.pg is not None:
                self.start_postgres()
            if self.nats is not None:
                self.start_nats()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.stop_postgres("fast")
        if self.throwaway:
            if self.pg is not None:
                self.pg.remove_data()  # as root, the cluster may live outside `root` (see EmbeddedPostgres)
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> EmbeddedServers:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- one server at a time, for fault injection -------------------------------------------------------

    def stop_postgres(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        """A managed restart's shutdown (`fast`) or a crash (`immediate`); see `EmbeddedPostgres.stop`."""
        self._own(self.pg).stop(mode)

    def start_postgres(self) -> None:
        _retry_spawn(self._own(self.pg).start)

    def stop_nats(self, mode: Literal["graceful", "kill"] = "graceful") -> None:
        nats = self._own(self.nats)
        if mode == "kill":
            nats.kill()
            nats.process = None
        else:
            nats.stop()

    def start_nats(self) -> None:
        nats = self._own(self.nats)
        url = _retry_spawn(nats.start)
        if nats.port_wanted and self.nats_url and url != self.nats_url:
            raise RuntimeError(f"NATS came back on {url}, its clients use {self.nats_url}")
        self.nats_url = url

    @staticmethod
    def _own(server: T | None) -> T:
        if server is None:
            raise RuntimeError("this server was given by URL: it is not ours to stop or start")
        return server

    # -- databases ---------------------------------------------------------------------------------------

    async def create_database(self, prefix: str) -> str:
        """A new, empty database named `<prefix>_<random>`; returns its DSN."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.dsn_for(name)

    async def ensure_database(self, name: str) -> str:
        """Database `name`, created if missing (a persistent one, as `make run` keeps); returns its DSN."""
        await ensure_database(self.admin_dsn, name)
        return self.dsn_for(name)

    async def drop_database(self, dsn: str) -> None:
        name = dsn.rsplit("/", 1)[1]
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def throwaway_servers(
    prefix: str,
    *,
    durable: bool = False,
    fixed_ports: bool = False,
    admin_dsn: str = "",
    nats_url: str = "",
) -> EmbeddedServers:
    """Servers (not started yet) in a new temp dir, removed with their data when stopped: use as
    `with throwaway_servers("tests") as servers:`, or `.start()` and `.stop()` them yourself.

    `fixed_ports` picks both ports once, so that restarts keep them (fault injection).
    """
    root = Path(tempfile.mkdtemp(prefix=f"scim-{prefix}-"))
    pg_port, nats_port = (free_port(), free_port()) if fixed_ports else (None, None)
    return EmbeddedServers(
        root, durable=durable, pg_port=pg_port, nats_port=nats_port, admin_dsn=admin_dsn, nats_url=nats_url
    )


def _retry_spawn(start: Callable[[], str]) -> str:
    """Start a server, again if the child died before it could exec: a process that holds gRPC channels
    may abort a fork() racing gRPC's threads in gRPC's at-fork handler ("postgres exited with -6")."""
    for attempt in range(3):
        try:
            return start()
        except RuntimeError:
            if attempt == 2:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")
