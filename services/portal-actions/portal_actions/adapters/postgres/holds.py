"""The mass-deactivation guard in PostgreSQL: thresholds, the sliding window, and the held actions.

A connection's guard decisions are serialised by one advisory lock, so that concurrent deactivations (on
several consumer replicas) count exactly; the decision itself is one statement. While any action of a
connection is held, every further destructive action of it is held too, behind it.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from portal_actions.adapters.postgres import Conn, held_locks
from portal_actions.domain.guard import SHARE_FLOOR, GuardPolicy

# Lock classes 1-3 are the mirror's (user, group, roles).
_GUARD_LOCK = 4

_DECIDE = """
WITH s AS (
    SELECT coalesce(g.enabled, $3) AS enabled, coalesce(g.max_actions, $4) AS max_actions,
           coalesce(g.max_percent, $5) AS max_percent, coalesce(g.window_seconds, $6) AS window_seconds
      FROM (VALUES (1)) AS one (x)
      LEFT JOIN portal.guards g ON g.workspace_id = $1 AND g.portal = $2
), expired AS (
    DELETE FROM portal.guard_window w USING s
     WHERE w.workspace_id = $1 AND w.portal = $2 AND w.at <= now() - s.window_seconds * interval '1 second'
), n AS (
    SELECT count(*) + 1 AS n FROM portal.guard_window w, s
     WHERE w.workspace_id = $1 AND w.portal = $2 AND w.at > now() - s.window_seconds * interval '1 second'
), d AS (
    SELECT s.enabled, n.n, CASE
        WHEN NOT s.enabled THEN false
        WHEN EXISTS (SELECT 1 FROM portal.held_actions h WHERE h.workspace_id = $1 AND h.portal = $2)
            THEN true
        WHEN n.n > s.max_actions THEN true
        WHEN n.n <= $7 THEN false
        ELSE n.n > floor(s.max_percent / 100 * (
                 SELECT count(*) FROM portal.accounts a
                  WHERE a.workspace_id = $1 AND a.portal = $2 AND a.status = 'active'))
      END AS hold
      FROM s, n
), counted AS (
    INSERT INTO portal.guard_window (workspace_id, portal, user_id)
    SELECT $1, $2, $8 FROM d WHERE d.enabled AND NOT d.hold
)
SELECT hold FROM d
"""


def guard_key(workspace_id: str, portal: str) -> tuple[int, str]:
    """The connection's guard lock as `mirror.lock_all` and `tracking.begin` take it (class, hashed text)."""
    return _GUARD_LOCK, f"{workspace_id}/{portal}"


async def lock(conn: Conn, workspace_id: str, portal: str) -> None:
    key = guard_key(workspace_id, portal)
    if held_locks.held(key):
        return  # taken with the batch's or the event's other locks
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", *key)


async def should_hold(
    conn: Conn, workspace_id: str, portal: str, user_id: str, defaults: GuardPolicy
) -> bool:
    """Whether this destructive action must be held; if not, it is counted in the window."""
    await lock(conn, workspace_id, portal)
    hold: bool = await conn.fetchval(
        _DECIDE,
        workspace_id,
        portal,
        defaults.enabled,
        defaults.max_actions,
        defaults.max_percent,
        defaults.window_seconds,
        SHARE_FLOOR,
        user_id,
    )
    return hold


async def hold(
    conn: Conn,
    *,
    workspace_id: str,
    portal: str,
    user_id: str,
    user_name: str,
    version: int,
    event_id: str,
    request_id: str,
    reason: str,
    planned_action: str,
    planned_summary: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.held_actions (workspace_id, portal, user_id, user_name, version, event_id,
                                         request_id, reason, planned_action, planned_summary)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        workspace_id,
        portal,
        user_id,
        user_name,
        version,
        event_id,
        request_id or None,
        reason,
        planned_action,
        planned_summary,
    )


async def cancel_for_user(conn: Conn, workspace_id: str, portal: str, user_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "DELETE FROM portal.held_actions WHERE workspace_id = $1 AND portal = $2 AND user_id = $3 "
        "RETURNING *",
        workspace_id,
        portal,
        user_id,
    )


async def any_held(conn: Conn, workspace_id: str, portal: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM portal.held_actions WHERE workspace_id = $1 AND portal = $2)",
            workspace_id,
            portal,
        )
    )


async def summary(conn: Conn, workspace_id: str, portal: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        SELECT count(*) AS held, min(held_at) AS since, coalesce(max(id), 0) AS last_id
          FROM portal.held_actions WHERE workspace_id = $1 AND portal = $2
        """,
        workspace_id,
        portal,
    )
    assert row is not None
    return row


async def sample(conn: Conn, workspace_id: str, portal: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM portal.held_actions WHERE workspace_id = $1 AND portal = $2 ORDER BY id LIMIT $3",
        workspace_id,
        portal,
        limit,
    )


async def ids_up_to(
    conn: Conn, workspace_id: str, portal: str, after: int, last_id: int, limit: int
) -> list[Any]:
    """(id, user_id) of held actions in arrival order, for a release to work through page by page."""
    return await conn.fetch(
        """
        SELECT id, user_id FROM portal.held_actions
         WHERE workspace_id = $1 AND portal = $2 AND id > $3 AND id <= $4 ORDER BY id LIMIT $5
        """,
        workspace_id,
        portal,
        after,
        last_id,
        limit,
    )


async def take(conn: Conn, held_id: int) -> asyncpg.Record | None:
    """The held action, deleted in the caller's transaction (which applies or cancels it), or None if
    another release or a reactivation got to it first."""
    return await conn.fetchrow("DELETE FROM portal.held_actions WHERE id = $1 RETURNING *", held_id)


async def discard_up_to(conn: Conn, workspace_id: str, portal: str, last_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "DELETE FROM portal.held_actions WHERE workspace_id = $1 AND portal = $2 AND id <= $3 RETURNING *",
        workspace_id,
        portal,
        last_id,
    )


async def recent_count(conn: Conn, workspace_id: str, portal: str, window_seconds: int) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM portal.guard_window WHERE workspace_id = $1 AND portal = $2 "
        "AND at > now() - $3 * interval '1 second'",
        workspace_id,
        portal,
        window_seconds,
    )
    return n


async def reset_window(conn: Conn, workspace_id: str, portal: str) -> None:
    """After a release or a discard the guard counts afresh: the admin has decided about the burst."""
    await lock(conn, workspace_id, portal)
    await conn.execute(
        "DELETE FROM portal.guard_window WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )


async def policy(conn: Conn, workspace_id: str, portal: str) -> GuardPolicy | None:
    row = await conn.fetchrow(
        "SELECT * FROM portal.guards WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )
    if row is None:
        return None
    return GuardPolicy(row["enabled"], row["max_actions"], row["max_percent"], row["window_seconds"])


async def save_policy(conn: Conn, workspace_id: str, portal: str, p: GuardPolicy) -> None:
    await conn.execute(
        """
        INSERT INTO portal.guards (workspace_id, portal, enabled, max_actions, max_percent, window_seconds)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (workspace_id, portal) DO UPDATE
           SET enabled = EXCLUDED.enabled, max_actions = EXCLUDED.max_actions,
               max_percent = EXCLUDED.max_percent, window_seconds = EXCLUDED.window_seconds,
               updated_at = now()
        """,
        workspace_id,
        portal,
        p.enabled,
        p.max_actions,
        p.max_percent,
        p.window_seconds,
    )


async def held_per_connection(conn: Conn) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT workspace_id, portal, count(*) AS held FROM portal.held_actions GROUP BY workspace_id, portal"
    )


async def active_accounts(conn: Conn, workspace_id: str, portal: str) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM portal.accounts WHERE workspace_id = $1 AND portal = $2 AND status = 'active'",
        workspace_id,
        portal,
    )
    return n
