"""Workspaces, SCIM connections and their hashed bearer tokens."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from suite_common.db_statements import counted_as

from directory.adapters.postgres.rows import Conn
from directory.domain.admin import Connection, Workspace
from directory.domain.tenancy import ConnectionContext, token_hash


async def authenticate(conn: Conn, token: str) -> ConnectionContext | None:
    """The enabled connection a live token belongs to, or None."""
    found = await lookup_token(conn, token_hash(token))
    return found[0] if found else None


async def lookup_token(conn: Conn, digest: bytes) -> tuple[ConnectionContext, float | None] | None:
    """The connection of a live token (by its SHA-256) and the seconds the token has left (None: no end)."""
    row = await conn.fetchrow(
        """
        SELECT t.token_hash, c.id, c.workspace_id, c.portal, c.custom_schemas, c.scim_profile, c.detected_idp,
               extract(epoch FROM t.expires_at - now())::float8 AS expires_in
          FROM directory.tokens t
          JOIN directory.connections c ON c.id = t.connection_id
         WHERE t.token_hash = $1
           AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > now())
           AND c.enabled
        """,
        digest,
    )
    # The index lookup finds the row; the constant-time compare keeps the final verdict timing-flat.
    if row is None or not hmac.compare_digest(bytes(row["token_hash"]), digest):
        return None
    context = ConnectionContext(
        connection_id=str(row["id"]),
        workspace_id=str(row["workspace_id"]),
        portal=row["portal"],
        custom_schemas=tuple(row["custom_schemas"] or ()),
        profile=row["scim_profile"],
        detected_idp=row["detected_idp"],
    )
    return context, row["expires_in"]


def _workspace(row: asyncpg.Record) -> Workspace:
    return Workspace(id=row["id"], name=row["name"], created_at=row["created_at"])


def _connection(row: asyncpg.Record) -> Connection:
    return Connection(
        id=row["id"],
        workspace_id=row["workspace_id"],
        portal=row["portal"],
        enabled=row["enabled"],
        created_at=row["created_at"],
        active_tokens=row["active_tokens"],
        custom_schemas=tuple(row["custom_schemas"] or ()),
        profile=row["scim_profile"],
        detected_idp=row["detected_idp"],
    )


_CONNECTION_COLUMNS = """
    c.id, c.workspace_id, c.portal, c.enabled, c.created_at, c.custom_schemas, c.scim_profile, c.detected_idp,
    (SELECT count(*) FROM directory.tokens t WHERE t.connection_id = c.id AND t.revoked_at IS NULL
       AND (t.expires_at IS NULL OR t.expires_at > now()))::int AS active_tokens
"""


class TenantRepository:
    """Workspaces, connections and tokens on one connection (the unit of work's)."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def create_workspace(self, name: str) -> Workspace | None:
        """The new workspace, or None when the name is taken."""
        row = await self.conn.fetchrow(
            "INSERT INTO directory.workspaces (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING "
            "RETURNING id, name, created_at",
            uuid.uuid4(),
            name,
        )
        return None if row is None else _workspace(row)

    async def find_workspace(self, ref: str) -> Workspace | None:
        """A workspace by id or by name."""
        try:
            ws_id: uuid.UUID | None = uuid.UUID(ref)
        except ValueError:
            ws_id = None
        row = await self.conn.fetchrow(
            "SELECT id, name, created_at FROM directory.workspaces WHERE id = $1 OR name = $2", ws_id, ref
        )
        return None if row is None else _workspace(row)

    async def list_workspaces(self) -> list[Workspace]:
        rows = await self.conn.fetch("SELECT id, name, created_at FROM directory.workspaces ORDER BY name")
        return [_workspace(r) for r in rows]

    async def upsert_connection(self, workspace_id: uuid.UUID, portal: str) -> uuid.UUID:
        """Enable the workspace's connection to `portal`, creating it if needed; returns its id."""
        connection_id = await self.conn.fetchval(
            """
            INSERT INTO directory.connections (id, workspace_id, portal, enabled)
            VALUES ($1, $2, $3, true)
            ON CONFLICT (workspace_id, portal) DO UPDATE SET enabled = true
            RETURNING id
            """,
            uuid.uuid4(),
            workspace_id,
            portal,
        )
        assert connection_id is not None
        return uuid.UUID(str(connection_id))

    async def find_connection(self, workspace_id: uuid.UUID, portal: str) -> Connection | None:
        row = await self.conn.fetchrow(
            f"SELECT {_CONNECTION_COLUMNS} FROM directory.connections c "
            "WHERE c.workspace_id = $1 AND c.portal = $2",
            workspace_id,
            portal,
        )
        return None if row is None else _connection(row)

    async def list_connections(self, workspace_id: uuid.UUID) -> list[Connection]:
        rows = await self.conn.fetch(
            f"SELECT {_CONNECTION_COLUMNS} FROM directory.connections c "
            "WHERE c.workspace_id = $1 ORDER BY c.portal",
            workspace_id,
        )
        return [_connection(r) for r in rows]

    async def set_connection_enabled(self, connection_id: uuid.UUID, enabled: bool) -> None:
        await self.conn.execute(
            "UPDATE directory.connections SET enabled = $2 WHERE id = $1", connection_id, enabled
        )

    async def add_token(self, connection_id: uuid.UUID, token: str) -> None:
        await self.conn.execute(
            "INSERT INTO directory.tokens (id, connection_id, token_hash) VALUES ($1, $2, $3)",
            uuid.uuid4(),
            connection_id,
            token_hash(token),
        )

    async def expire_tokens(self, connection_id: uuid.UUID, overlap_seconds: float) -> int:
        """Make every live token of the connection stop working after `overlap_seconds` (0 = now)."""
        result = await self.conn.execute(
            """
            UPDATE directory.tokens
               SET expires_at = LEAST(coalesce(expires_at, 'infinity'), now() + make_interval(secs => $2))
             WHERE connection_id = $1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > now())
            """,
            connection_id,
            float(overlap_seconds),
        )
        return int(result.split()[-1])

    async def revoke_tokens(self, connection_id: uuid.UUID) -> int:
        result = await self.conn.execute(
            "UPDATE directory.tokens SET revoked_at = now() WHERE connection_id = $1 AND revoked_at IS NULL "
            "AND (expires_at IS NULL OR expires_at > now())",
            connection_id,
        )
        return int(result.split()[-1])

    async def set_custom_schemas(self, connection_id: uuid.UUID, schemas: list[dict[str, Any]]) -> None:
        await self.conn.execute(
            "UPDATE directory.connections SET custom_schemas = $2 WHERE id = $1", connection_id, schemas
        )

    async def set_profile(self, connection_id: uuid.UUID, profile: str) -> None:
        await self.conn.execute(
            "UPDATE directory.connections SET scim_profile = $2 WHERE id = $1", connection_id, profile
        )


async def record_detected_idp(conn: Conn, connection_id: str, idp: str) -> bool:
    """Record the IdP recognised in a connection's requests; a no-op (and no write) when it is unchanged."""
    result = await conn.execute(
        """
        UPDATE directory.connections SET detected_idp = $2, detected_at = now()
         WHERE id = $1 AND detected_idp IS DISTINCT FROM $2
        """,
        uuid.UUID(connection_id),
        idp,
    )
    return bool(result != "UPDATE 0")


def pooled_token_lookup(
    pool: asyncpg.Pool,
) -> Callable[[bytes], Awaitable[tuple[ConnectionContext, float | None] | None]]:
    """`lookup_token` on a connection of `pool`, the authenticator's database side."""

    async def lookup(digest: bytes) -> tuple[ConnectionContext, float | None] | None:
        async with pool.acquire() as conn:
            return await lookup_token(conn, digest)

    return lookup


def pooled_idp_recorder(pool: asyncpg.Pool) -> Callable[[str, str], Awaitable[bool]]:
    """`record_detected_idp` on a connection of `pool`, the authenticator's other database side."""

    async def record(connection_id: str, idp: str) -> bool:
        # Once per connection and change of IdP, not per request: counted apart from a request's budget.
        with counted_as("idp-record"):
            async with pool.acquire() as conn:
                return await record_detected_idp(conn, connection_id, idp)

    return record
