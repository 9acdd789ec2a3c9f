"""What a reconciliation reads: pages of users (directory version, mirror, account, devices) and the
membership differences of a connection's settled groups.

The directory's tables are read, never written, and only for what the mirror cannot say: the current
version of each user and group (are events still on their way?) and the memberships themselves (the
portal's membership rows are what is checked, so they cannot also be the reference).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from portal_actions.adapters.postgres import Conn

_USERS = """
WITH ids AS (
    (SELECT id AS user_id FROM directory.users
      WHERE connection_id = $1 AND id > $3 AND ($6::uuid IS NULL OR id = $6) ORDER BY id LIMIT $5)
    UNION
    (SELECT user_id FROM portal.directory_users
      WHERE workspace_id = $2 AND portal = $4 AND user_id > $3 AND ($6::uuid IS NULL OR user_id = $6)
      ORDER BY user_id LIMIT $5)
    UNION
    (SELECT user_id FROM portal.accounts
      WHERE workspace_id = $2 AND portal = $4 AND user_id > $3 AND ($6::uuid IS NULL OR user_id = $6)
      ORDER BY user_id LIMIT $5)
    ORDER BY 1 LIMIT $5
)
SELECT ids.user_id, d.version AS directory_version, m.version AS mirror_version,
       m.user_name, coalesce(m.active, false) AS active, coalesce(m.deleted, false) AS deleted, m.state,
       a.status AS account_status, a.user_name AS account_user_name, a.metadata AS account_metadata
  FROM ids
  LEFT JOIN directory.users d ON d.id = ids.user_id AND d.connection_id = $1
  LEFT JOIN portal.directory_users m ON m.user_id = ids.user_id AND m.workspace_id = $2 AND m.portal = $4
  LEFT JOIN portal.accounts a ON a.workspace_id = $2 AND a.portal = $4 AND a.user_id = ids.user_id
 ORDER BY ids.user_id
"""


async def connection_id(conn: Conn, workspace_id: str, portal: str) -> str | None:
    found = await conn.fetchval(
        "SELECT id FROM directory.connections WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )
    return str(found) if found is not None else None


async def user_count(conn: Conn, connection: str, workspace_id: str, portal: str) -> int:
    """How many users a full pass will look at, for progress (the directory's and the mirror's)."""
    n: int = await conn.fetchval(
        """
        SELECT greatest((SELECT count(*) FROM directory.users WHERE connection_id = $1),
                        (SELECT count(*) FROM portal.directory_users WHERE workspace_id = $2 AND portal = $3))
        """,
        connection,
        workspace_id,
        portal,
    )
    return n


async def users_page(
    conn: Conn,
    connection: str,
    workspace_id: str,
    portal: str,
    after: str,
    limit: int,
    only: str | None = None,
) -> list[asyncpg.Record]:
    return await conn.fetch(_USERS, connection, workspace_id, after, portal, limit, only)


async def devices_of(conn: Conn, workspace_id: str, user_names: list[str]) -> list[Any]:
    return await conn.fetch(
        """
        SELECT lower(user_name) AS who, serial, coalesce(policy, '') AS policy FROM portal.devices
         WHERE workspace_id = $1 AND lower(user_name) = ANY($2::text[])
         ORDER BY serial
        """,
        workspace_id,
        [n.lower() for n in user_names],
    )


async def membership_differences(
    conn: Conn, connection: str, group_id: str | None = None, user_id: str | None = None
) -> list[asyncpg.Record]:
    """Pairs where the directory and the portal disagree, in groups whose portal copy has caught up with the
    directory (same version); `expected` is the directory's side."""
    return await conn.fetch(
        """
        WITH settled AS (
            SELECT g.id, p.display_name FROM directory.groups g
              JOIN portal.groups p ON p.group_id = g.id AND p.version = g.version AND NOT p.deleted
             WHERE g.connection_id = $1 AND ($2::uuid IS NULL OR g.id = $2)
        ), want AS (
            SELECT m.group_id, m.user_id FROM directory.memberships m JOIN settled s ON s.id = m.group_id
             WHERE $3::uuid IS NULL OR m.user_id = $3
        ), have AS (
            SELECT m.group_id, m.user_id FROM portal.group_members m JOIN settled s ON s.id = m.group_id
             WHERE m.is_member AND ($3::uuid IS NULL OR m.user_id = $3)
        )
        SELECT coalesce(w.group_id, h.group_id) AS group_id, coalesce(w.user_id, h.user_id) AS user_id,
               w.user_id IS NOT NULL AS expected, s.display_name,
               coalesce(u.user_name, coalesce(w.user_id, h.user_id)::text) AS user_name
          FROM want w
          FULL JOIN have h ON h.group_id = w.group_id AND h.user_id = w.user_id
          JOIN settled s ON s.id = coalesce(w.group_id, h.group_id)
          LEFT JOIN portal.directory_users u ON u.user_id = coalesce(w.user_id, h.user_id)
         WHERE w.user_id IS NULL OR h.user_id IS NULL
         ORDER BY s.display_name, 5
        """,
        connection,
        group_id,
        user_id,
    )
