"""Idempotency records and dead letters."""

from __future__ import annotations

import asyncpg

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


async def begin(
    conn: Conn,
    event_id: str,
    workspace_id: str,
    portal: str,
    lock_class: int,
    resource_id: str,
    also_lock: tuple[int, str] | None = None,
) -> tuple[bool, bool]:
    """Record the event as applied in the caller's transaction, read its connection's dry-run flag and take
    its resource's advisory lock (`mirror.USER_LOCK` or `GROUP_LOCK`), in one statement: (first delivery,
    dry run). `also_lock`: one more advisory lock, taken after the resource's (lock classes ascend, as in
    `mirror.lock_all`), e.g. the connection's guard lock for a deactivation (`held_locks`).

    The resource's mirror row must be read by a later statement: this one's snapshot is taken before the
    lock is granted, so it may predate the commit of the event that held the lock.
    """
    extra = ", pg_advisory_xact_lock($6, hashtext($7))::text AS also_locked" if also_lock else ""
    row = await conn.fetchrow(
        f"""
        WITH recorded AS (
            INSERT INTO portal.processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM recorded) AS first,
               EXISTS (SELECT 1 FROM portal.dry_runs WHERE workspace_id = $2 AND portal = $3) AS dry_run,
               pg_advisory_xact_lock($4, hashtext($5))::text AS locked{extra}
        """,
        event_id,
        workspace_id,
        portal,
        lock_class,
        resource_id,
        *(also_lock or ()),
    )
    assert row is not None
    return bool(row["first"]), bool(row["dry_run"])


async def dead_letters_to_replay(conn: Conn, event_id: str) -> list[asyncpg.Record]:
    """One dead letter (by event id), or all of them oldest first when `event_id` is empty."""
    return await conn.fetch(
        "SELECT event_id, payload FROM portal.dead_letters WHERE $1 = '' OR event_id = $1 "
        "ORDER BY at, event_id",
        event_id,
    )


async def take_dead_letter(conn: Conn, event_id: str) -> bool:
    """Delete it in the caller's transaction (the one that applies it); False if another replay did."""
    status = await conn.execute("DELETE FROM portal.dead_letters WHERE event_id = $1", event_id)
    return not status.endswith(" 0")


async def note_replay_failure(conn: Conn, event_id: str, error: str) -> None:
    await conn.execute(
        "UPDATE portal.dead_letters SET error = $2, deliveries = deliveries + 1, at = now() "
        "WHERE event_id = $1",
        event_id,
        error,
    )
