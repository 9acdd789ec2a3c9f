"""Which connections are in dry run, and the audit entries a rehearsed event wrote."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from portal_actions.adapters.postgres import Conn, audit


async def since(conn: Conn, workspace_id: str, portal: str) -> datetime | None:
    at: datetime | None = await conn.fetchval(
        "SELECT since FROM portal.dry_runs WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )
    return at


async def enter(conn: Conn, workspace_id: str, portal: str) -> None:
    await conn.execute(
        "INSERT INTO portal.dry_runs (workspace_id, portal) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        workspace_id,
        portal,
    )


async def leave(conn: Conn, workspace_id: str, portal: str) -> bool:
    status = await conn.execute(
        "DELETE FROM portal.dry_runs WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )
    return not status.endswith(" 0")


async def last_audit_id(conn: Conn) -> int:
    await audit.flush(conn)  # entries kept for the end of the batch count as written (audit.deferred)
    n: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM portal.audit")
    return n


async def audit_of_event(conn: Conn, event_id: str, after_id: int) -> list[asyncpg.Record]:
    await audit.flush(conn)
    return await conn.fetch(
        "SELECT * FROM portal.audit WHERE event_id = $1 AND id > $2 ORDER BY id", event_id, after_id
    )


async def record_rehearsed(conn: Conn, rows: list[asyncpg.Record]) -> None:
    """The entries a rehearsal wrote (and rolled back), kept as `dry-run`: what would have been applied."""
    await audit.flush(conn)
    await conn.executemany(
        """
        INSERT INTO portal.audit (workspace_id, portal, user_id, user_name, group_name, action, result,
                                  reason, event_id, request_id, detail, mode)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'dry-run')
        """,
        [
            (
                r["workspace_id"],
                r["portal"],
                r["user_id"],
                r["user_name"],
                r["group_name"],
                r["action"],
                r["result"],
                r["reason"],
                r["event_id"],
                r["request_id"],
                r["detail"],
            )
            for r in rows
        ],
    )
