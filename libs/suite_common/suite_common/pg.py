"""asyncpg pool creation with JSON codecs, shared by the directory and portal-actions adapters."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg

from suite_common import jsonutil
from suite_common.db_statements import StatementLogger


async def _set_codecs(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            schema="pg_catalog",
            encoder=lambda v: jsonutil.dumps(v).decode(),
            decoder=jsonutil.loads,
        )


def _init(statements: StatementLogger | None) -> Callable[[asyncpg.Connection], Coroutine[Any, Any, None]]:
    async def init(conn: asyncpg.Connection) -> None:
        await _set_codecs(conn)
        if statements is not None:  # after the codec set-up: a connection's own introspection is not work
            conn.add_query_logger(statements)

    return init


async def _no_server_reset(_conn: asyncpg.Connection) -> None:
    """Release a connection without asyncpg's default reset statement (`pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`), one round trip on every release.

    The suite's pooled connections never leave session state behind: advisory locks are transaction-scoped
    (`pg_advisory_xact_lock`), cursors live inside transactions, LISTEN runs on connections of its own
    (`suite_common.pg_listen`) and settings are connection parameters or `SET LOCAL`. asyncpg still rolls
    back a transaction left open and drops client-side listeners before calling this.
    """


async def create_pool(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    statements: StatementLogger | None = None,
    **kwargs: Any,
) -> asyncpg.Pool:
    """`statements`: a query logger called once per statement (`suite_common.db_statements`), or None."""
    # A lock wait longer than this is a deadlock in the making: fail the statement (and the request, which
    # clients retry) instead of queueing forever.
    settings = {"lock_timeout": "5000", **kwargs.pop("server_settings", {})}
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init(statements),
        reset=_no_server_reset,
        server_settings=settings,
        **kwargs,
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
