"""The audit trail: every action applied to a portal, why, when and with what result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_actions.adapters.postgres import Conn


@dataclass(frozen=True)
class Cause:
    """Why an action happened: the directory event and the SCIM request behind it."""

    workspace_id: str
    portal: str
    reason: str
    event_id: str | None
    request_id: str | None
    # live (an event applied), released (a held action applied), repair, dry-run (recorded, not applied)
    mode: str = "live"


async def record(
    conn: Conn,
    cause: Cause,
    *,
    action: str,
    result: str = "applied",
    detail: str = "",
    user_id: str | None = None,
    user_name: str | None = None,
    group_name: str | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.audit (workspace_id, portal, user_id, user_name, group_name, action, result,
                                  reason, event_id, request_id, detail, mode)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """,
        cause.workspace_id,
        cause.portal,
        user_id,
        user_name,
        group_name,
        action,
        result,
        cause.reason,
        cause.event_id,
        cause.request_id or None,
        detail,
        cause.mode,
    )


async def record_memberships(
    conn: Conn, cause: Cause, *, action: str, group_name: str, user_ids: list[str]
) -> None:
    """One entry per user whose membership changed, in one statement (a group push may carry thousands)."""
    if not user_ids:
        return
    await conn.execute(
        """
        INSERT INTO portal.audit (workspace_id, portal, user_id, user_name, group_name, action, result,
                                  reason, event_id, request_id, detail, mode)
        SELECT $1, $2, u.id, d.user_name, $3, $4, 'applied', $5, $6, $7, '', $9
          FROM unnest($8::uuid[]) AS u(id) LEFT JOIN portal.directory_users d ON d.user_id = u.id
        """,
        cause.workspace_id,
        cause.portal,
        group_name,
        action,
        cause.reason,
        cause.event_id,
        cause.request_id or None,
        user_ids,
        cause.mode,
    )


async def query(conn: Conn, workspace_id: str, user_name: str, limit: int) -> list[Any]:
    # A user's entries are found by id as well as by name, so renames and memberships recorded before
    # the user's own event arrived still show up.
    return await conn.fetch(
        """
        SELECT * FROM portal.audit a
         WHERE a.workspace_id = $1
           AND ($2 = '' OR lower(a.user_name) = lower($2)
                OR a.user_id IN (SELECT d.user_id FROM portal.directory_users d
                                  WHERE d.workspace_id = $1 AND lower(d.user_name) = lower($2)))
         ORDER BY a.id DESC LIMIT $3
        """,
        workspace_id,
        user_name,
        limit,
    )
