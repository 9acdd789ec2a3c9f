"""The MDM device registry: devices assigned to users (by userName) and carrying a policy."""

from __future__ import annotations

from typing import Any

from portal_actions.adapters.postgres import Conn


async def of_user(conn: Conn, workspace_id: str, user_name: str) -> list[Any]:
    return await conn.fetch(
        "SELECT serial, policy FROM portal.devices WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "ORDER BY serial",
        workspace_id,
        user_name,
    )


async def unassign_user(conn: Conn, workspace_id: str, user_name: str) -> list[str]:
    rows = await conn.fetch(
        "UPDATE portal.devices SET user_name = NULL WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "RETURNING serial",
        workspace_id,
        user_name,
    )
    return [r["serial"] for r in rows]


async def set_policy_for_user(conn: Conn, workspace_id: str, user_name: str, policy: str) -> list[str]:
    rows = await conn.fetch(
        "UPDATE portal.devices SET policy = $3 WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "RETURNING serial",
        workspace_id,
        user_name,
        policy,
    )
    return [r["serial"] for r in rows]


async def delete_for_user(conn: Conn, workspace_id: str, user_name: str) -> list[str]:
    rows = await conn.fetch(
        "DELETE FROM portal.devices WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "RETURNING serial",
        workspace_id,
        user_name,
    )
    return [r["serial"] for r in rows]


async def rename_user(conn: Conn, workspace_id: str, old: str, new: str) -> None:
    await conn.execute(
        "UPDATE portal.devices SET user_name = $3 WHERE workspace_id = $1 AND lower(user_name) = lower($2)",
        workspace_id,
        old,
        new,
    )


async def register(
    conn: Conn, workspace_id: str, serial: str, user_name: str | None, policy: str | None
) -> Any:
    """Register a device, or update the user and policy of a registered one (only the fields given)."""
    return await conn.fetchrow(
        """
        INSERT INTO portal.devices (workspace_id, serial, user_name, policy) VALUES ($1, $2, $3, $4)
        ON CONFLICT (workspace_id, serial) DO UPDATE
           SET user_name = coalesce(EXCLUDED.user_name, portal.devices.user_name),
               policy = coalesce(EXCLUDED.policy, portal.devices.policy)
        RETURNING serial, user_name, policy
        """,
        workspace_id,
        serial,
        user_name,
        policy,
    )


async def assign(conn: Conn, workspace_id: str, serial: str, user_name: str | None) -> Any:
    return await conn.fetchrow(
        "UPDATE portal.devices SET user_name = $3 WHERE workspace_id = $1 AND serial = $2 "
        "RETURNING serial, user_name, policy",
        workspace_id,
        serial,
        user_name,
    )


async def set_policy(conn: Conn, workspace_id: str, serial: str, policy: str | None) -> Any:
    return await conn.fetchrow(
        "UPDATE portal.devices SET policy = $3 WHERE workspace_id = $1 AND serial = $2 "
        "RETURNING serial, user_name, policy",
        workspace_id,
        serial,
        policy,
    )


async def remove(conn: Conn, workspace_id: str, serial: str) -> bool:
    status = await conn.execute(
        "DELETE FROM portal.devices WHERE workspace_id = $1 AND serial = $2", workspace_id, serial
    )
    return not status.endswith(" 0")


async def list_all(conn: Conn, workspace_id: str) -> list[Any]:
    return await conn.fetch(
        "SELECT serial, user_name, policy FROM portal.devices WHERE workspace_id = $1 ORDER BY serial",
        workspace_id,
    )


async def of_user_locked(conn: Conn, workspace_id: str, user_name: str) -> list[Any]:
    """The user's devices, locked until the caller's transaction ends, so that a plan made from them is
    exactly what its execution changes."""
    return await conn.fetch(
        "SELECT serial, policy FROM portal.devices WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "ORDER BY serial FOR UPDATE",
        workspace_id,
        user_name,
    )


async def unassign_serials(conn: Conn, workspace_id: str, serials: list[str]) -> None:
    await conn.execute(
        "UPDATE portal.devices SET user_name = NULL WHERE workspace_id = $1 AND serial = ANY($2::text[])",
        workspace_id,
        serials,
    )


async def delete_serials(conn: Conn, workspace_id: str, serials: list[str]) -> None:
    await conn.execute(
        "DELETE FROM portal.devices WHERE workspace_id = $1 AND serial = ANY($2::text[])",
        workspace_id,
        serials,
    )


async def set_policy_serials(conn: Conn, workspace_id: str, serials: list[str], policy: str) -> None:
    await conn.execute(
        "UPDATE portal.devices SET policy = $3 WHERE workspace_id = $1 AND serial = ANY($2::text[])",
        workspace_id,
        serials,
        policy,
    )
