"""Keyset-paged reads for the admin console: people, groups, a group's members, tokens, the admin audit.

Every page walks an index in order and stops after `limit + 1` rows, so a page costs the same at 100
users and at 100,000, and a group of 100,000 members pages instead of loading at once:
people by `users_user_name_ci (connection_id, lower(user_name))`, groups by `groups_display_name_ci`,
members by the membership primary key `(group_id, user_id)`.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from directory.adapters.postgres.rows import Conn


def _prefix_pattern(query: str) -> str:
    escaped = query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


async def people(
    conn: Conn, connection_id: uuid.UUID, query: str, after: str, limit: int
) -> tuple[list[asyncpg.Record], str]:
    rows = await conn.fetch(
        """
        SELECT id, user_name, external_id, display_name, active, version, created_at, last_modified,
               lower(user_name) AS sort_key
          FROM directory.users
         WHERE connection_id = $1 AND lower(user_name) > $2 AND lower(user_name) LIKE $3
         ORDER BY lower(user_name) LIMIT $4
        """,
        connection_id,
        after,
        _prefix_pattern(query),
        limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return list(rows), (rows[-1]["sort_key"] if more and rows else "")


async def person(conn: Conn, connection_id: uuid.UUID, user_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, user_name, external_id, display_name, active, version, created_at, last_modified, doc"
        " FROM directory.users WHERE connection_id = $1 AND id = $2",
        connection_id,
        user_id,
    )


async def groups_of(conn: Conn, user_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT g.id, g.display_name FROM directory.memberships m"
            " JOIN directory.groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.display_name",
            user_id,
        )
    )


async def groups_page(
    conn: Conn, connection_id: uuid.UUID, query: str, after: str, limit: int
) -> tuple[list[asyncpg.Record], str]:
    rows = await conn.fetch(
        """
        SELECT g.id, g.display_name, lower(g.display_name) AS sort_key,
               (SELECT count(*) FROM directory.memberships m WHERE m.group_id = g.id) AS member_count
          FROM directory.groups g
         WHERE g.connection_id = $1 AND lower(g.display_name) > $2 AND lower(g.display_name) LIKE $3
         ORDER BY lower(g.display_name) LIMIT $4
        """,
        connection_id,
        after,
        _prefix_pattern(query),
        limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return list(rows), (rows[-1]["sort_key"] if more and rows else "")


async def group(conn: Conn, connection_id: uuid.UUID, group_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT g.id, g.display_name,
               (SELECT count(*) FROM directory.memberships m WHERE m.group_id = g.id) AS member_count
          FROM directory.groups g WHERE g.connection_id = $1 AND g.id = $2
        """,
        connection_id,
        group_id,
    )


async def members(
    conn: Conn, group_id: uuid.UUID, after: str, limit: int
) -> tuple[list[asyncpg.Record], str]:
    """One page of a group's members, in membership-key order (`(group_id, user_id)`): constant cost per
    page whatever the group's size, where an order by userName would scan the connection's users."""
    try:
        after_id = uuid.UUID(after) if after else uuid.UUID(int=0)
    except ValueError:
        after_id = uuid.UUID(int=0)
    rows = await conn.fetch(
        """
        SELECT u.id, u.user_name, u.external_id, u.display_name, u.active, u.version, u.created_at,
               u.last_modified
          FROM directory.memberships m JOIN directory.users u ON u.id = m.user_id
         WHERE m.group_id = $1 AND m.user_id > $2
         ORDER BY m.user_id LIMIT $3
        """,
        group_id,
        after_id,
        limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return list(rows), (str(rows[-1]["id"]) if more and rows else "")


async def tokens(conn: Conn, connection_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """
            SELECT id, created_at, last_used_at, expires_at, revoked_at,
                   (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS active
              FROM directory.tokens WHERE connection_id = $1 ORDER BY created_at DESC LIMIT 20
            """,
            connection_id,
        )
    )


async def record_admin_action(
    conn: Conn, actor: str, workspace_id: uuid.UUID | None, action: str, target: str, detail: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO directory.admin_audit (actor, workspace_id, action, target, detail)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id, at, actor, workspace_id, action, target, detail",
        actor,
        workspace_id,
        action,
        target,
        detail,
    )
    assert row is not None
    return row


async def admin_audit(
    conn: Conn, workspace_id: uuid.UUID | None, before_id: int, limit: int
) -> list[asyncpg.Record]:
    args: list[Any] = [before_id if before_id > 0 else 2**62, limit]
    where = "id < $1"
    if workspace_id is not None:
        args.append(workspace_id)
        where += " AND workspace_id = $3"
    return list(
        await conn.fetch(
            "SELECT id, at, actor, workspace_id, action, target, detail FROM directory.admin_audit"
            f" WHERE {where} ORDER BY id DESC LIMIT $2",
            *args,
        )
    )
