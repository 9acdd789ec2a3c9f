"""Idempotency of consumption and the last state seen of each resource."""

from __future__ import annotations

from typing import Any

from security_events.adapters.postgres import Conn


async def first_consumption(conn: Conn, event_id: str) -> bool:
    """Record the event as consumed in the caller's transaction; False if it already was."""
    status = await conn.execute(
        "INSERT INTO security_events.consumed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING", event_id
    )
    return bool(status.endswith(" 1"))


async def last_seen(conn: Conn, resource_id: str) -> tuple[int, dict[str, Any] | None] | None:
    """(version, state) of the resource as last consumed, locked until the transaction ends."""
    row = await conn.fetchrow(
        "SELECT version, state FROM security_events.resources WHERE resource_id = $1 FOR UPDATE", resource_id
    )
    return None if row is None else (int(row["version"]), row["state"])


async def remember(conn: Conn, resource_id: str, version: int, state: dict[str, Any] | None) -> None:
    await conn.execute(
        """
        INSERT INTO security_events.resources (resource_id, version, state) VALUES ($1, $2, $3)
        ON CONFLICT (resource_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state
        """,
        resource_id,
        version,
        state,
    )
