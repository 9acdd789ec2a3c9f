"""The MDM device registry: devices assigned to users (by userName) and carrying a policy."""

from __future__ import annotations

from typing import Any

from portal_actions.adapters.postgres import Conn
from portal_actions.domain.admin_views import Device


def _device(row: Any) -> Device | None:
    return None if row is None else Device(row["serial"], row["user_name"], row["policy"])


async def of_user(conn: Conn, workspace_id: str, user_name: str) -> list[Any]:
    return await conn.fetch(
        "SELECT serial, policy FROM portal.devices WHERE workspace_id = $1 AND lower(user_name) = lower($2) "
        "ORDER BY serial",
        workspace_id,
        user_name,
    )


async def user_devices(conn: Conn, workspace_id: str, user_name: str) -> list[Device]:
    """The user's devices as the admin API shows them."""
    rows = await conn.fetch(
        "SELECT serial, user_name, policy FROM portal.devices "
        "WHERE workspace_id = $1 AND lower(user_name) = lower($2) ORDER BY serial",
        workspace_id,
        user_name,
    )
    return [Device(r["serial"], r["user_name"], r["policy"]) for r in rows]


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
) -> Device:
    """Register a device, or update the user and policy of a registered one (only the fields given)."""
    row = await conn.fetchrow(
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
    device = _device(row)
    assert device is not None
    return device


async def assign(conn: Conn, workspace_id: str, serial: str, user_name: str | None) -> Device | None:
    row = await conn.fetchrow(
        "UPDATE portal.devices SET user_name = $3 WHERE workspace_id = $1 AND serial = $2 "
        "RETURNING serial, user_name, policy",
        workspace_id,
        serial,
        user_name,
    )
    return _device(row)


async def set_policy(conn: Conn, workspace_id: str, serial: str, policy: str | None) -> Device | None:
    row = await conn.fetchrow(
        "UPDATE portal.devices SET policy = $3 WHERE workspace_id = $1 AND serial = $2 "
        "RETURNING serial, user_name, policy",
        workspace_id,
        serial,
        policy,
    )
    return _device(row)


async def remove(conn: Conn, workspace_id: str, serial: str) -> bool:
    status = await conn.execute(
        "DELETE FROM portal.devices WHERE workspace_id = $1 AND serial = $2", workspace_id, serial
    )
    return not status.endswith(" 0")


async def list_all(conn: Conn, workspace_id: str) -> list[Device]:
    rows = await conn.fetch(
        "SELECT serial, user_name, policy FROM portal.devices WHERE workspace_id = $1 ORDER BY serial",
        workspace_id,
    )
    return [Device(r["serial"], r["user_name"], r["policy"]) for r in rows]


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
