"""asyncpg pool creation with JSON codecs, shared by the directory and portal-actions adapters."""

from __future__ import annotations

from typing import Any

import asyncpg

from suite_common import jsonutil


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            schema="pg_catalog",
            encoder=lambda v: jsonutil.dumps(v).decode(),
            decoder=jsonutil.loads,
        )


async def create_pool(dsn: str, *, min_size: int, max_size: int, **kwargs: Any) -> asyncpg.Pool:
    # A lock wait longer than this is a deadlock in the making: fail the statement (and the request, which
    # clients retry) instead of queueing forever.
    settings = {"lock_timeout": "5000", **kwargs.pop("server_settings", {})}
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, server_settings=settings, **kwargs
    )
    assert pool is not None
    return pool


# Failures of the database itself (down, restarting, connection lost), as opposed to a bad statement.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.ConnectionDoesNotExistError,
    # A pooled connection cut by a server restart mid-operation can raise this on its next use ("cannot
    # switch to state ...; another operation is in progress"); seen under fault injection (tests/reliability).
    asyncpg.InternalClientError,
)
