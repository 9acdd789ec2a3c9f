"""Admin configuration: behaviours, role mappings, attribute mappings and MDM policies."""

from __future__ import annotations

from portal_actions.adapters.postgres import Conn
from portal_actions.domain.admin_views import AttributeMapping, RoleMapping
from portal_actions.domain.behaviour import Behaviour

# Every write of a behaviour or an attribute mapping notifies here in its own transaction, so that the
# replicas' configuration caches (`service_layer.configuration_reads`) drop what they hold when it commits.
NOTIFY_CHANNEL = "portal_configuration"


async def _notify_change(conn: Conn) -> None:
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


async def behaviour(conn: Conn, workspace_id: str, portal: str) -> Behaviour | None:
    row = await conn.fetchrow(
        "SELECT * FROM portal.behaviours WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )
    if row is None:
        return None
    return Behaviour(
        workspace_id=str(row["workspace_id"]),
        portal=row["portal"],
        on_create=row["on_create"],
        on_deactivate=row["on_deactivate"],
        default_role=row["default_role"],
        deactivate_policy=row["deactivate_policy"] or "",
        role_settle_seconds=row["role_settle_seconds"],
    )


async def save_behaviour(conn: Conn, b: Behaviour) -> None:
    await conn.execute(
        """
        INSERT INTO portal.behaviours (workspace_id, portal, on_create, default_role, on_deactivate,
                                       deactivate_policy, role_settle_seconds)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (workspace_id, portal) DO UPDATE SET on_create = EXCLUDED.on_create,
               default_role = EXCLUDED.default_role, on_deactivate = EXCLUDED.on_deactivate,
               deactivate_policy = EXCLUDED.deactivate_policy,
               role_settle_seconds = EXCLUDED.role_settle_seconds,
               updated_at = now()
        """,
        b.workspace_id,
        b.portal,
        b.on_create,
        b.default_role,
        b.on_deactivate,
        b.deactivate_policy or None,
        b.role_settle_seconds,
    )
    await _notify_change(conn)


async def mapped_roles(conn: Conn, workspace_id: str, group_names: list[str]) -> list[str]:
    if not group_names:
        return []
    rows = await conn.fetch(
        "SELECT role FROM portal.role_mappings "
        "WHERE workspace_id = $1 AND lower(group_name) = ANY($2::text[])",
        workspace_id,
        [g.lower() for g in group_names],
    )
    return [r["role"] for r in rows]


async def attribute_mappings(conn: Conn, workspace_id: str, portal: str) -> list[AttributeMapping]:
    rows = await conn.fetch(
        "SELECT scim_attribute, metadata_key FROM portal.attribute_mappings "
        "WHERE workspace_id = $1 AND portal = $2 "
        "ORDER BY metadata_key",
        workspace_id,
        portal,
    )
    return [AttributeMapping(r["scim_attribute"], r["metadata_key"]) for r in rows]


async def policy_exists(conn: Conn, workspace_id: str, name: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM portal.policies WHERE workspace_id = $1 AND name = $2", workspace_id, name
        )
    )


async def save_role_mapping(conn: Conn, workspace_id: str, group: str, role: str) -> None:
    # Group names match case-insensitively, as Okta links groups by name (idp-clients §1.8): one mapping
    # per name, the latest spelling kept.
    await conn.execute(
        """
        INSERT INTO portal.role_mappings (workspace_id, group_name, role) VALUES ($1, $2, $3)
        ON CONFLICT (workspace_id, lower(group_name)) DO UPDATE
           SET group_name = EXCLUDED.group_name, role = EXCLUDED.role
        """,
        workspace_id,
        group,
        role,
    )


async def role_mappings(conn: Conn, workspace_id: str) -> list[RoleMapping]:
    rows = await conn.fetch(
        "SELECT group_name, role FROM portal.role_mappings WHERE workspace_id = $1 "
        "ORDER BY lower(group_name)",
        workspace_id,
    )
    return [RoleMapping(r["group_name"], r["role"]) for r in rows]


async def save_attribute_mapping(
    conn: Conn, workspace_id: str, portal: str, scim_attribute: str, metadata_key: str
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.attribute_mappings (workspace_id, portal, scim_attribute, metadata_key)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (workspace_id, portal, metadata_key) DO UPDATE
           SET scim_attribute = EXCLUDED.scim_attribute
        """,
        workspace_id,
        portal,
        scim_attribute,
        metadata_key,
    )
    await _notify_change(conn)


async def add_policy(conn: Conn, workspace_id: str, name: str) -> None:
    await conn.execute(
        "INSERT INTO portal.policies (workspace_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        workspace_id,
        name,
    )


async def remove_policy(conn: Conn, workspace_id: str, name: str) -> bool:
    status = await conn.execute(
        "DELETE FROM portal.policies WHERE workspace_id = $1 AND name = $2", workspace_id, name
    )
    return not status.endswith(" 0")


async def policies(conn: Conn, workspace_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT name FROM portal.policies WHERE workspace_id = $1 ORDER BY name", workspace_id
    )
    return [r["name"] for r in rows]
