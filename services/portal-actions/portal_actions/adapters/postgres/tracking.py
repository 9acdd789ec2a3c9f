"""Idempotency records and dead letters."""

from __future__ import annotations

from portal_actions.adapters.postgres import Conn
from portal_actions.domain.admin_views import DeadLetterEntry


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


async def dead_letters(conn: Conn) -> list[DeadLetterEntry]:
    rows = await conn.fetch(
        "SELECT event_id, subject, error, deliveries, at FROM portal.dead_letters ORDER BY at"
    )
    return [DeadLetterEntry(r["event_id"], r["subject"], r["error"], r["deliveries"], r["at"]) for r in rows]
