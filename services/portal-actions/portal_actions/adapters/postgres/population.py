"""Read-only questions about a portal's users, as portal-actions knows them: one user by name or id, and
the active users a behaviour change would concern."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from portal_actions.adapters.postgres import Conn


async def find_user(conn: Conn, workspace_id: str, portal: str, ref: str) -> asyncpg.Record | None:
    """A user of the connection by id or by userName (case-insensitive, RFC 7643 §4.1.1)."""
    try:
        user_id: str | None = str(uuid.UUID(ref))
    except ValueError:
        user_id = None
    return await conn.fetchrow(
        """
        SELECT * FROM portal.directory_users
         WHERE workspace_id = $1 AND portal = $2
           AND (($3::uuid IS NOT NULL AND user_id = $3::uuid) OR lower(user_name) = lower($4))
         ORDER BY (user_id = $3::uuid) IS TRUE DESC
         LIMIT 1
        """,
        workspace_id,
        portal,
        user_id,
        ref.strip(),
    )


async def active_totals(conn: Conn, workspace_id: str, portal: str) -> asyncpg.Record:
    """Active users, their live accounts, and the devices assigned to them (and how many of those are not
    on `policy` yet, for a change-policy preview)."""
    row = await conn.fetchrow(
        """
        WITH active AS (
            SELECT u.user_id, u.user_name FROM portal.directory_users u
             WHERE u.workspace_id = $1 AND u.portal = $2 AND u.active AND NOT u.deleted
        )
        SELECT (SELECT count(*) FROM active) AS users,
               (SELECT count(*) FROM active x JOIN portal.accounts a
                    ON a.workspace_id = $1 AND a.portal = $2 AND a.user_id = x.user_id
                   AND a.status = 'active')
                   AS accounts,
               (SELECT count(*) FROM portal.devices d
                 WHERE $2 = 'mdm' AND d.workspace_id = $1
                   AND lower(d.user_name) IN (SELECT lower(x.user_name) FROM active x)) AS devices
        """,
        workspace_id,
        portal,
    )
    assert row is not None
    return row


async def active_sample(conn: Conn, workspace_id: str, portal: str, limit: int) -> list[Any]:
    """The first active users by userName, with their account (if any)."""
    return await conn.fetch(
        """
        SELECT u.user_id, u.user_name, a.status, a.role
          FROM portal.directory_users u
          LEFT JOIN portal.accounts a ON a.workspace_id = u.workspace_id AND a.portal = u.portal
                                     AND a.user_id = u.user_id
         WHERE u.workspace_id = $1 AND u.portal = $2 AND u.active AND NOT u.deleted
         ORDER BY lower(u.user_name), u.user_id
         LIMIT $3
        """,
        workspace_id,
        portal,
        limit,
    )
