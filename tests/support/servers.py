"""Session-wide PostgreSQL and NATS for the tests: throwaway embedded servers on ephemeral ports, unless
TEST_DATABASE_URL / TEST_NATS_URL point at existing ones."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from suite_common.embedded import EmbeddedNats, EmbeddedPostgres


@dataclass
class Servers:
    admin_dsn: str
    nats_url: str
    pg: EmbeddedPostgres | None
    nats: EmbeddedNats | None

    def dsn_for(self, database: str) -> str:
        base, _, _ = self.admin_dsn.rpartition("/")
        return f"{base}/{database}"


@contextmanager
def test_servers() -> Iterator[Servers]:
    tmp = Path(tempfile.mkdtemp(prefix="scim-tests-"))
    pg = nats = None
    try:
        admin_dsn = os.environ.get("TEST_DATABASE_URL", "")
        if not admin_dsn:
            pg = EmbeddedPostgres(tmp / "pg", durable=False)
            admin_dsn = pg.start()
        nats_url = os.environ.get("TEST_NATS_URL", "")
        if not nats_url:
            nats = EmbeddedNats(tmp / "nats")
            nats_url = nats.start()
        yield Servers(admin_dsn, nats_url, pg, nats)
    finally:
        if nats:
            nats.stop()
        if pg:
            pg.stop()
            pg.remove_data()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


async def create_database(servers: Servers, prefix: str = "scimtest") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(servers.admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return servers.dsn_for(name)


async def drop_database(servers: Servers, dsn: str) -> None:
    name = dsn.rsplit("/", 1)[1]
    conn = await asyncpg.connect(servers.admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run(coro: object) -> object:
    return asyncio.get_event_loop().run_until_complete(coro)  # type: ignore[arg-type]
