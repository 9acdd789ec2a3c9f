"""Idempotency of consumption and the last state seen of each resource."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from security_events.adapters.postgres import Conn


async def last_seen_many(conn: Conn, resource_ids: list[str]) -> dict[str, tuple[int, dict[str, Any] | None]]:
    """`last_seen` for a group of resources, locked in one statement (in id order, so no deadlock)."""
    rows = await conn.fetch(
        "SELECT resource_id, version, state FROM security_events.resources"
        " WHERE resource_id = ANY($1::uuid[]) ORDER BY resource_id FOR UPDATE",
        resource_ids,
    )
    return {str(r["resource_id"]): (int(r["version"]), r["state"]) for r in rows}


async def already_consumed(conn: Conn, event_ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT event_id FROM security_events.consumed_events WHERE event_id = ANY($1::text[])", event_ids
    )
    return {r["event_id"] for r in rows}


async def record_consumed(conn: Conn, event_ids: list[str]) -> int:
    """Record a group's events as consumed; returns how many were new."""
    rows = await conn.fetch(
        "INSERT INTO security_events.consumed_events (event_id) SELECT unnest($1::text[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        event_ids,
    )
    return len(rows)


async def remember_many(conn: Conn, states: dict[str, tuple[int, dict[str, Any] | None]]) -> None:
    ids = list(states)
    await conn.execute(
        """
        INSERT INTO security_events.resources (resource_id, version, state)
        SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[])
        ON CONFLICT (resource_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state
        """,
        ids,
        [states[i][0] for i in ids],
        [states[i][1] for i in ids],
    )


async def remember_newest(db: Conn, states: dict[str, tuple[int, dict[str, Any] | None]]) -> None:
    """`remember_many` without a lock: a version never replaces a newer one, so order does not matter."""
    ids = list(states)
    await db.execute(
        """
        INSERT INTO security_events.resources AS r (resource_id, version, state)
        SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[])
        ON CONFLICT (resource_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state
         WHERE r.version < EXCLUDED.version
        """,
        ids,
        [states[i][0] for i in ids],
        [states[i][1] for i in ids],
    )


async def prune(conn: Conn, older_than_s: float) -> int:
    """Forget consumed ids older than any redelivery could be (the retention exceeds the stream's max age)."""
    status = await conn.execute(
        "DELETE FROM security_events.consumed_events WHERE consumed_at < now() - $1::interval",
        timedelta(seconds=older_than_s),
    )
    return int(status.split()[-1])
