"""The session's PostgreSQL and NATS: throwaway embedded servers on ephemeral ports, unless
TEST_DATABASE_URL / TEST_NATS_URL name existing ones (then only databases are created and dropped there)."""

from __future__ import annotations

import os

from suite_common.embedded import EmbeddedServers, throwaway_servers

Servers = EmbeddedServers


def session_servers() -> EmbeddedServers:
    """Not started yet: `with session_servers() as servers:`."""
    return throwaway_servers(
        "tests",
        admin_dsn=os.environ.get("TEST_DATABASE_URL", ""),
        nats_url=os.environ.get("TEST_NATS_URL", ""),
    )


async def create_database(servers: EmbeddedServers, prefix: str = "scimtest") -> str:
    return await servers.create_database(prefix)


async def drop_database(servers: EmbeddedServers, dsn: str) -> None:
    await servers.drop_database(dsn)
