"""Idempotency records and dead letters."""

from __future__ import annotations

import asyncpg

from portal_actions.adapters.postgres import Conn


async def first_delivery(conn: Conn, event_id: str) -> bool:
    """Record the event as applied in the caller's transaction; False if it already was."""
    status = await conn.execute(
        "INSERT INTO portal.processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING", event_id
    )
    return status.endswith(" 1")


async def record_dead_letter(
    conn: Conn, event_id: str, subject: str, error: str, deliveries: int, payload: bytes
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.dead_letters (event_id, subject, error, deliveries, payload)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (event_id) DO UPDATE
           SET error = EXCLUDED.error, deliveries = EXCLUDED.deliveries, at = now()
        """,
        event_id,
        subject,
        error,
        deliveries,
        payload,
    )


async def dead_letters(conn: Conn) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT event_id, subject, error, deliveries, at FROM portal.dead_letters ORDER BY at"
    )


async def begin(conn: Conn, event_id: str, workspace_id: str, portal: str) -> tuple[bool, bool]:
    """Record the event as applied in the caller's transaction, and read its connection's dry-run flag in
    the same statement: (first delivery, dry run)."""
    row = await conn.fetchrow(
        """
        WITH recorded AS (
            INSERT INTO portal.processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM recorded) AS first,
               EXISTS (SELECT 1 FROM portal.dry_runs WHERE workspace_id = $2 AND portal = $3) AS dry_run
        """,
        event_id,
        workspace_id,
        portal,
    )
    assert row is not None
    return bool(row["first"]), bool(row["dry_run"])
