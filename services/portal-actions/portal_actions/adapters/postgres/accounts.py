"""Portal accounts: Store employees, Dashboard collaborators, MDM employees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from portal_actions.adapters.postgres import Conn
from portal_actions.domain.admin_views import Account


async def get(conn: Conn, workspace_id: str, portal: str, user_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM portal.accounts WHERE workspace_id = $1 AND portal = $2 AND user_id = $3 FOR UPDATE",
        workspace_id,
        portal,
        user_id,
    )


async def activate(
    conn: Conn,
    *,
    workspace_id: str,
    portal: str,
    user_id: str,
    user_name: str,
    role: str | None,
    metadata: dict[str, Any],
    provisioned_at: datetime,
    role_settles_at: datetime | None,
) -> None:
    """Create the account, or bring a removed one back as if provisioned for the first time."""
    await conn.execute(
        """
        INSERT INTO portal.accounts (workspace_id, portal, user_id, user_name, status, role, metadata,
                                     provisioned_at, role_settles_at)
        VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8)
        ON CONFLICT (workspace_id, portal, user_id) DO UPDATE
           SET user_name = EXCLUDED.user_name, status = 'active', role = EXCLUDED.role,
               metadata = EXCLUDED.metadata, provisioned_at = EXCLUDED.provisioned_at,
               role_settles_at = EXCLUDED.role_settles_at, updated_at = now()
        """,
        workspace_id,
        portal,
        user_id,
        user_name,
        role,
        metadata,
        provisioned_at,
        role_settles_at,
    )


async def settling(
    conn: Conn, workspace_id: str, portal: str, user_ids: list[str], at: datetime
) -> list[asyncpg.Record]:
    """Active accounts among `user_ids` whose role window is still open at `at`, locked for update."""
    if not user_ids:
        return []
    return await conn.fetch(
        """
        SELECT user_id, user_name, role, role_settles_at FROM portal.accounts
         WHERE workspace_id = $1 AND portal = $2 AND user_id = ANY($3::uuid[]) AND status = 'active'
           AND role_settles_at >= $4
         ORDER BY user_id
           FOR UPDATE
        """,
        workspace_id,
        portal,
        user_ids,
        at,
    )


async def update_profile(
    conn: Conn, workspace_id: str, portal: str, user_id: str, user_name: str, metadata: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE portal.accounts SET user_name = $4, metadata = $5, updated_at = now() "
        "WHERE workspace_id = $1 AND portal = $2 AND user_id = $3",
        workspace_id,
        portal,
        user_id,
        user_name,
        metadata,
    )


async def set_role(conn: Conn, workspace_id: str, portal: str, user_id: str, role: str) -> None:
    await conn.execute(
        "UPDATE portal.accounts SET role = $4, updated_at = now() WHERE workspace_id = $1 AND portal = $2 "
        "AND user_id = $3",
        workspace_id,
        portal,
        user_id,
        role,
    )


async def remove(conn: Conn, workspace_id: str, portal: str, user_id: str) -> None:
    await conn.execute(
        "UPDATE portal.accounts SET status = 'removed', updated_at = now() "
        "WHERE workspace_id = $1 AND portal = $2 "
        "AND user_id = $3",
        workspace_id,
        portal,
        user_id,
    )


async def list_for(conn: Conn, workspace_id: str, portal: str, include_removed: bool) -> list[Account]:
    rows = await conn.fetch(
        """
        SELECT a.*,
               coalesce((SELECT array_agg(g.display_name ORDER BY g.display_name)
                           FROM portal.group_members m JOIN portal.groups g ON g.group_id = m.group_id
                          WHERE m.user_id = a.user_id AND m.is_member AND NOT g.deleted), '{}') AS group_names
          FROM portal.accounts a
         WHERE a.workspace_id = $1 AND a.portal = $2 AND ($3 OR a.status = 'active')
         ORDER BY lower(a.user_name)
        """,
        workspace_id,
        portal,
        include_removed,
    )
    return [account_of(r) for r in rows]


def account_of(r: Any) -> Account:
    """An account row joined with its `group_names`, as the admin APIs show it."""
    return Account(
        user_id=str(r["user_id"]),
        user_name=r["user_name"],
        status=r["status"],
        role=r["role"],
        metadata=r["metadata"] or {},
        group_names=tuple(r["group_names"]),
    )
