"""asyncpg pool creation with JSON codecs, shared by the directory and portal-actions adapters.

Every connection the services open goes to a primary: a multi-host `DATABASE_URL`
(`postgresql://u@db-a:5432,db-b:5432/scim?target_session_attrs=read-write`) is tried host by host until
one accepts writes, so a list whose first host is a standby still lands on the primary, and after a
failover new connections find the promoted node. A pooled connection that finds itself on a read-only
node is discarded instead of being handed out, and a write refused as read-only counts as a database
outage (503 + Retry-After, the client retries), never as a silent success.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
from asyncpg.connect_utils import SessionAttribute
from asyncpg.pool import PoolConnectionProxy

from suite_common import jsonutil
from suite_common.db_statements import StatementLogger

# libpq's names for "a node that accepts writes" (PostgreSQL docs, 34.1.2 target_session_attrs).
_WRITABLE = {"read-write": SessionAttribute.read_write, "primary": SessionAttribute.primary}


class ReadOnlyNode(asyncpg.InterfaceError):
    """A pooled connection is on a standby or a node set read-only; it is closed, not used."""


def session_target(dsn: str) -> SessionAttribute:
    """The `target_session_attrs` the services connect with: read-write unless the DSN says `primary`.

    A DSN asking for anything else (`standby`, `any`, `prefer-standby`, `read-only`) is refused: these
    services write, and a session on a standby would only fail later."""
    asked = parse_qs(urlsplit(dsn).query).get("target_session_attrs", [])
    if not asked:
        return SessionAttribute.read_write
    if asked[-1] not in _WRITABLE:
        raise ValueError(
            f"DATABASE_URL has target_session_attrs={asked[-1]}; the services write, so it must be "
            f"read-write (or primary), or left out"
        )
    return _WRITABLE[asked[-1]]


async def connect_primary(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    """One connection to whichever host of `dsn` accepts writes (LISTEN sessions use this too: LISTEN is
    refused on a standby, and NOTIFYs are only sent on the primary)."""
    return await asyncpg.connect(dsn, target_session_attrs=session_target(dsn), **kwargs)


async def _set_codecs(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            schema="pg_catalog",
            encoder=lambda v: jsonutil.dumps(v).decode(),
            decoder=jsonutil.loads,
        )


async def _refuse_read_only(conn: PoolConnectionProxy) -> None:
    """Run on every acquire, without a round trip: the server reports both settings (ParameterStatus,
    PostgreSQL 14+) at connect time and whenever they change. Raising here makes asyncpg close the
    connection; the next acquire opens a new one through the DSN, which finds the primary."""
    settings = conn.get_settings()
    if getattr(settings, "in_hot_standby", "off") == "on":
        raise ReadOnlyNode("pooled connection is on a standby; discarded")
    if getattr(settings, "default_transaction_read_only", "off") == "on":
        raise ReadOnlyNode("pooled connection is on a read-only node; discarded")


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
        setup=_refuse_read_only,
        reset=_no_server_reset,
        server_settings=settings,
        target_session_attrs=session_target(dsn),
        **kwargs,
    )
    assert pool is not None
    return pool


# Failures of the database itself (down, restarting, failing over, connection lost), as opposed to a bad
# statement.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,  # ReadOnlyNode included
    asyncpg.ConnectionDoesNotExistError,
    # A pooled connection cut by a server restart mid-operation can raise this on its next use ("cannot
    # switch to state ...; another operation is in progress"); seen under fault injection (tests/reliability).
    # TargetServerAttributeNotMatched (no host accepts writes yet, mid-failover) is one too.
    asyncpg.InternalClientError,
    # A write that reached a node which turned read-only (a demoted primary, a fenced instance): refused by
    # PostgreSQL (SQLSTATE 25006), so nothing was written; the client retries once the primary is back.
    asyncpg.ReadOnlySQLTransactionError,
)
