"""The latest applied directory state of users, groups and membership pairs (the ordering guard)."""

from __future__ import annotations

from typing import Any

import asyncpg


async def lock_user(conn: asyncpg.Connection, user_id: str) -> asyncpg.Record | None:
    # Serialises concurrent events of one user across consumer replicas; the row may not exist yet,
    # so an advisory lock on the id covers the first event too.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"user:{user_id}")
    return await conn.fetchrow("SELECT * FROM portal.directory_users WHERE user_id = $1", user_id)


async def save_user(
    conn: asyncpg.Connection, *, user_id: str, connection_id: str, workspace_id: str, portal: str,
    user_name: str, active: bool, deleted: bool, state: dict[str, Any] | None, version: int,
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.directory_users
               (user_id, connection_id, workspace_id, portal, user_name, active, deleted, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (user_id) DO UPDATE SET user_name = EXCLUDED.user_name, active = EXCLUDED.active,
               deleted = EXCLUDED.deleted, state = coalesce(EXCLUDED.state, portal.directory_users.state),
               version = EXCLUDED.version
        """,
        user_id, connection_id, workspace_id, portal, user_name, active, deleted, state, version,
    )


async def lock_group(conn: asyncpg.Connection, group_id: str) -> asyncpg.Record | None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"group:{group_id}")
    return await conn.fetchrow("SELECT * FROM portal.groups WHERE group_id = $1", group_id)


async def save_group(
    conn: asyncpg.Connection, *, group_id: str, connection_id: str, workspace_id: str, portal: str,
    display_name: str, deleted: bool, version: int,
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.groups (group_id, connection_id, workspace_id, portal, display_name, deleted, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (group_id) DO UPDATE SET display_name = EXCLUDED.display_name, deleted = EXCLUDED.deleted,
               version = EXCLUDED.version
        """,
        group_id, connection_id, workspace_id, portal, display_name, deleted, version,
    )


async def set_membership(
    conn: asyncpg.Connection, group_id: str, user_ids: list[str], is_member: bool, version: int
) -> list[str]:
    """Apply one side of a delta; a pair changes only if this version is newer. Returns the users changed."""
    if not user_ids:
        return []
    rows = await conn.fetch(
        """
        INSERT INTO portal.group_members (group_id, user_id, is_member, version)
        SELECT $1, u, $3, $4 FROM unnest($2::uuid[]) AS u
        ON CONFLICT (group_id, user_id) DO UPDATE SET is_member = EXCLUDED.is_member, version = EXCLUDED.version
         WHERE portal.group_members.version < EXCLUDED.version
        RETURNING user_id
        """,
        group_id, user_ids, is_member, version,
    )
    return [str(r["user_id"]) for r in rows]


async def clear_group(conn: asyncpg.Connection, group_id: str, version: int) -> list[str]:
    rows = await conn.fetch(
        "UPDATE portal.group_members SET is_member = false, version = $2 "
        "WHERE group_id = $1 AND is_member AND version < $2 RETURNING user_id",
        group_id, version,
    )
    return [str(r["user_id"]) for r in rows]


async def clear_user(conn: asyncpg.Connection, user_id: str) -> None:
    await conn.execute("UPDATE portal.group_members SET is_member = false WHERE user_id = $1", user_id)


async def group_names_of(conn: asyncpg.Connection, user_id: str) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT g.display_name FROM portal.group_members m JOIN portal.groups g ON g.group_id = m.group_id
         WHERE m.user_id = $1 AND m.is_member AND NOT g.deleted ORDER BY g.display_name
        """,
        user_id,
    )
    return [r["display_name"] for r in rows]
