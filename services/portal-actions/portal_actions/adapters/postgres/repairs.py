"""The one write a repair needs beyond the portal adapters: setting a membership pair to the directory's
side without ever lowering the version a later group event is compared with."""

from __future__ import annotations

from portal_actions.adapters.postgres import Conn


async def group_version(conn: Conn, group_id: str) -> int | None:
    v: int | None = await conn.fetchval("SELECT version FROM portal.groups WHERE group_id = $1", group_id)
    return v


async def set_pair(conn: Conn, group_id: str, user_id: str, is_member: bool, version: int) -> None:
    await conn.execute(
        """
        INSERT INTO portal.group_members (group_id, user_id, is_member, version, changed_at)
        VALUES ($1, $2, $3, $4, now())
        ON CONFLICT (group_id, user_id) DO UPDATE
           SET is_member = EXCLUDED.is_member,
               version = greatest(portal.group_members.version, EXCLUDED.version), changed_at = now()
        """,
        group_id,
        user_id,
        is_member,
        version,
    )
