"""Workspaces, SCIM connections and their hashed bearer tokens."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import asyncpg

from directory.adapters.postgres.rows import Conn
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


async def create_workspace(conn: Conn, name: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "INSERT INTO directory.workspaces (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING "
        "RETURNING id, name, created_at",
        uuid.uuid4(),
        name,
    )


async def find_workspace(conn: Conn, ref: str) -> asyncpg.Record | None:
    """A workspace by id or by name."""
    try:
        ws_id: uuid.UUID | None = uuid.UUID(ref)
    except ValueError:
        ws_id = None
    return await conn.fetchrow(
        "SELECT id, name, created_at FROM directory.workspaces WHERE id = $1 OR name = $2", ws_id, ref
    )


async def list_workspaces(conn: Conn) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT id, name, created_at FROM directory.workspaces ORDER BY name")


async def upsert_connection(conn: Conn, workspace_id: Any, portal: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO directory.connections (id, workspace_id, portal, enabled)
        VALUES ($1, $2, $3, true)
        ON CONFLICT (workspace_id, portal) DO UPDATE SET enabled = true
        RETURNING id, workspace_id, portal, enabled, created_at, scim_profile, detected_idp
        """,
        uuid.uuid4(),
        workspace_id,
        portal,
    )
    assert row is not None
    return row


async def find_connection(conn: Conn, workspace_id: Any, portal: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT c.id, c.workspace_id, c.portal, c.enabled, c.created_at, c.custom_schemas, c.scim_profile,
               c.detected_idp,
               (SELECT count(*) FROM directory.tokens t WHERE t.connection_id = c.id AND t.revoked_at IS NULL
                  AND (t.expires_at IS NULL OR t.expires_at > now()))::int AS active_tokens
          FROM directory.connections c WHERE c.workspace_id = $1 AND c.portal = $2
        """,
        workspace_id,
        portal,
    )


async def list_connections(conn: Conn, workspace_id: Any) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT c.id, c.workspace_id, c.portal, c.enabled, c.created_at, c.scim_profile, c.detected_idp,
               (SELECT count(*) FROM directory.tokens t WHERE t.connection_id = c.id AND t.revoked_at IS NULL
                  AND (t.expires_at IS NULL OR t.expires_at > now()))::int AS active_tokens
          FROM directory.connections c WHERE c.workspace_id = $1 ORDER BY c.portal
        """,
        workspace_id,
    )


async def set_connection_enabled(conn: Conn, connection_id: Any, enabled: bool) -> None:
    await conn.execute("UPDATE directory.connections SET enabled = $2 WHERE id = $1", connection_id, enabled)


async def add_token(conn: Conn, connection_id: Any, token: str) -> None:
    await conn.execute(
        "INSERT INTO directory.tokens (id, connection_id, token_hash) VALUES ($1, $2, $3)",
        uuid.uuid4(),
        connection_id,
        token_hash(token),
    )


async def expire_tokens(conn: Conn, connection_id: Any, overlap_seconds: float) -> int:
    """Make every live token of the connection stop working after `overlap_seconds` (0 = now)."""
    result = await conn.execute(
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


async def revoke_tokens(conn: Conn, connection_id: Any) -> int:
    result = await conn.execute(
        "UPDATE directory.tokens SET revoked_at = now() WHERE connection_id = $1 AND revoked_at IS NULL "
        "AND (expires_at IS NULL OR expires_at > now())",
        connection_id,
    )
    return int(result.split()[-1])


async def set_custom_schemas(conn: Conn, connection_id: Any, schemas: list[dict[str, Any]]) -> None:
    await conn.execute(
        "UPDATE directory.connections SET custom_schemas = $2 WHERE id = $1", connection_id, schemas
    )


async def set_profile(conn: Conn, connection_id: Any, profile: str) -> None:
    await conn.execute(
        "UPDATE directory.connections SET scim_profile = $2 WHERE id = $1", connection_id, profile
    )


async def record_detected_idp(conn: Conn, connection_id: Any, idp: str) -> bool:
    """Record the IdP recognised in a connection's requests; a no-op (and no write) when it is unchanged."""
    result = await conn.execute(
        """
        UPDATE directory.connections SET detected_idp = $2, detected_at = now()
         WHERE id = $1 AND detected_idp IS DISTINCT FROM $2
        """,
        uuid.UUID(str(connection_id)),
        idp,
    )
    return result != "UPDATE 0"
