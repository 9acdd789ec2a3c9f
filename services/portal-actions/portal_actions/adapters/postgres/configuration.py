"""Admin configuration: behaviours, role mappings, attribute mappings and MDM policies."""

from __future__ import annotations

from typing import Any

import asyncpg

from portal_actions.domain.behaviour import Behaviour


async def behaviour(conn: asyncpg.Connection, workspace_id: str, portal: str) -> Behaviour | None:
    row = await conn.fetchrow(
        "SELECT * FROM portal.behaviours WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )
    if row is None:
        return None
    return Behaviour(
        workspace_id=str(row["workspace_id"]), portal=row["portal"], on_create=row["on_create"],
        on_deactivate=row["on_deactivate"], default_role=row["default_role"],
        deactivate_policy=row["deactivate_policy"] or "", role_settle_seconds=row["role_settle_seconds"],
    )


async def save_behaviour(conn: asyncpg.Connection, b: Behaviour) -> None:
    await conn.execute(
        """
        INSERT INTO portal.behaviours (workspace_id, portal, on_create, default_role, on_deactivate,
                                       deactivate_policy, role_settle_seconds)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (workspace_id, portal) DO UPDATE SET on_create = EXCLUDED.on_create,
               default_role = EXCLUDED.default_role, on_deactivate = EXCLUDED.on_deactivate,
               deactivate_policy = EXCLUDED.deactivate_policy, role_settle_seconds = EXCLUDED.role_settle_seconds,
               updated_at = now()
        """,
        b.workspace_id, b.portal, b.on_create, b.default_role, b.on_deactivate, b.deactivate_policy or None,
        b.role_settle_seconds,
    )


async def mapped_roles(conn: asyncpg.Connection, workspace_id: str, group_names: list[str]) -> list[str]:
    if not group_names:
        return []
    rows = await conn.fetch(
        "SELECT role FROM portal.role_mappings WHERE workspace_id = $1 AND lower(group_name) = ANY($2::text[])",
        workspace_id, [g.lower() for g in group_names],
    )
    return [r["role"] for r in rows]


async def attribute_mappings(conn: asyncpg.Connection, workspace_id: str, portal: str) -> list[Any]:
    return await conn.fetch(
        "SELECT scim_attribute, metadata_key FROM portal.attribute_mappings WHERE workspace_id = $1 AND portal = $2 "
        "ORDER BY metadata_key",
        workspace_id, portal,
    )


async def policy_exists(conn: asyncpg.Connection, workspace_id: str, name: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT 1 FROM portal.policies WHERE workspace_id = $1 AND name = $2", workspace_id, name
    ))
