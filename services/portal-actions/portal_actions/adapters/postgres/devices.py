"""The MDM device registry: devices assigned to users (by userName) and carrying a policy."""

from __future__ import annotations

from typing import Any

import asyncpg


async def of_user(conn: asyncpg.Connection, workspace_id: str, user_name: str) -> list[Any]:
    return await conn.fetch(
        "SELECT serial, policy FROM portal.devices WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "ORDER BY serial",
        workspace_id, user_name,
    )


async def unassign_user(conn: asyncpg.Connection, workspace_id: str, user_name: str) -> list[str]:
    rows = await conn.fetch(
        "UPDATE portal.devices SET user_name = NULL WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "RETURNING serial",
        workspace_id, user_name,
    )
    return [r["serial"] for r in rows]


async def set_policy_for_user(conn: asyncpg.Connection, workspace_id: str, user_name: str, policy: str) -> list[str]:
    rows = await conn.fetch(
        "UPDATE portal.devices SET policy = $3 WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "RETURNING serial",
        workspace_id, user_name, policy,
    )
    return [r["serial"] for r in rows]


async def delete_for_user(conn: asyncpg.Connection, workspace_id: str, user_name: str) -> list[str]:
    rows = await conn.fetch(
        "DELETE FROM portal.devices WHERE workspace_id = $1 AND lower(user_name) = lower($2) RETURNING serial",
        workspace_id, user_name,
    )
    return [r["serial"] for r in rows]


async def rename_user(conn: asyncpg.Connection, workspace_id: str, old: str, new: str) -> None:
    await conn.execute(
        "UPDATE portal.devices SET user_name = $3 WHERE workspace_id = $1 AND lower(user_name) = lower($2)",
        workspace_id, old, new,
    )
