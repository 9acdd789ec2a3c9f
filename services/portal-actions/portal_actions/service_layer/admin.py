"""Admin use cases of the portals: behaviours, mappings, policies, devices, accounts and the audit trail.

Every change validates first and writes in one transaction, so a rejected request leaves the previous
configuration in force.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from portal_actions.adapters.postgres import accounts, audit, configuration, devices, tracking
from portal_actions.domain.attribute_mapping import RESERVED_KEYS, split_attribute
from portal_actions.domain.behaviour import ROLES, Behaviour, InvalidBehaviour, default_behaviour, normalize_role


class NotFound(LookupError):
    pass


def _workspace(ref: str) -> str:
    try:
        return str(uuid.UUID(ref))
    except ValueError as exc:
        raise InvalidBehaviour(f"workspace id {ref!r} is not a UUID") from exc


class PortalAdmin:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def set_behaviour(self, behaviour: Behaviour) -> Behaviour:
        b = Behaviour(
            workspace_id=_workspace(behaviour.workspace_id), portal=behaviour.portal.lower(),
            on_create=behaviour.on_create.lower(), on_deactivate=behaviour.on_deactivate.lower(),
            default_role=normalize_role(behaviour.default_role or "viewer"),
            deactivate_policy=behaviour.deactivate_policy, role_settle_seconds=behaviour.role_settle_seconds,
        ).validate()
        async with self.pool.acquire() as conn, conn.transaction():
            if b.on_deactivate == "change-policy" and not await configuration.policy_exists(
                conn, b.workspace_id, b.deactivate_policy
            ):
                raise InvalidBehaviour(f"policy {b.deactivate_policy!r} does not exist; add it first")
            await configuration.save_behaviour(conn, b)
        return b

    async def behaviour(self, workspace_id: str, portal: str) -> Behaviour:
        async with self.pool.acquire() as conn:
            found = await configuration.behaviour(conn, _workspace(workspace_id), portal)
        return found or default_behaviour(workspace_id, portal)

    async def map_role(self, workspace_id: str, group: str, role: str) -> tuple[str, str]:
        role = normalize_role(role)
        if role not in ROLES:
            raise InvalidBehaviour(f"unknown role {role!r}; choose {', '.join(ROLES)}")
        if not group.strip():
            raise InvalidBehaviour("group name must not be empty")
        async with self.pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO portal.role_mappings (workspace_id, group_name, role) VALUES ($1, $2, $3)
                ON CONFLICT (workspace_id, group_name) DO UPDATE SET role = EXCLUDED.role
                """,
                _workspace(workspace_id), group.strip(), role,
            )
        return group.strip(), role

    async def role_mappings(self, workspace_id: str) -> list[Any]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT group_name, role FROM portal.role_mappings WHERE workspace_id = $1 ORDER BY group_name",
                _workspace(workspace_id),
            )

    async def map_attribute(self, workspace_id: str, portal: str, scim_attribute: str, key: str) -> None:
        if key.strip().lower() in RESERVED_KEYS or not key.strip():
            raise InvalidBehaviour(f"metadata key {key!r} is reserved or empty")
        _urn, parts = split_attribute(scim_attribute.strip())
        if not parts:
            raise InvalidBehaviour(f"{scim_attribute!r} is not a SCIM attribute path")
        if parts[0].lower() in ("password", "groups"):
            raise InvalidBehaviour(f"{scim_attribute!r} cannot be mapped")
        async with self.pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO portal.attribute_mappings (workspace_id, portal, scim_attribute, metadata_key)
                VALUES ($1, $2, $3, $4)
                ON CONFLICT (workspace_id, portal, metadata_key) DO UPDATE SET scim_attribute = EXCLUDED.scim_attribute
                """,
                _workspace(workspace_id), portal, scim_attribute.strip(), key.strip(),
            )

    async def attribute_mappings(self, workspace_id: str, portal: str) -> list[Any]:
        async with self.pool.acquire() as conn:
            return await configuration.attribute_mappings(conn, _workspace(workspace_id), portal)

    async def add_policy(self, workspace_id: str, name: str) -> None:
        if not name.strip():
            raise InvalidBehaviour("policy name must not be empty")
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO portal.policies (workspace_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                _workspace(workspace_id), name.strip(),
            )

    async def remove_policy(self, workspace_id: str, name: str) -> None:
        async with self.pool.acquire() as conn:
            status = await conn.execute(
                "DELETE FROM portal.policies WHERE workspace_id = $1 AND name = $2", _workspace(workspace_id), name
            )
        if status.endswith(" 0"):
            raise NotFound(f"no policy {name!r}")

    async def policies(self, workspace_id: str) -> list[str]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT name FROM portal.policies WHERE workspace_id = $1 ORDER BY name", _workspace(workspace_id)
            )
        return [r["name"] for r in rows]

    async def add_device(self, workspace_id: str, serial: str, user_name: str, policy: str) -> asyncpg.Record:
        ws = _workspace(workspace_id)
        if not serial.strip():
            raise InvalidBehaviour("serial must not be empty")
        async with self.pool.acquire() as conn, conn.transaction():
            if policy and not await configuration.policy_exists(conn, ws, policy):
                raise InvalidBehaviour(f"policy {policy!r} does not exist; add it first")
            row = await conn.fetchrow(
                """
                INSERT INTO portal.devices (workspace_id, serial, user_name, policy) VALUES ($1, $2, $3, $4)
                ON CONFLICT (workspace_id, serial) DO UPDATE SET user_name = EXCLUDED.user_name,
                       policy = coalesce(EXCLUDED.policy, portal.devices.policy)
                RETURNING serial, user_name, policy
                """,
                ws, serial.strip(), user_name or None, policy or None,
            )
        assert row is not None
        return row

    async def assign_device(self, workspace_id: str, serial: str, user_name: str) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "UPDATE portal.devices SET user_name = $3 WHERE workspace_id = $1 AND serial = $2 "
                "RETURNING serial, user_name, policy",
                _workspace(workspace_id), serial, user_name or None,
            )
        if row is None:
            raise NotFound(f"no device {serial!r}")
        return row

    async def devices(self, workspace_id: str) -> list[Any]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT serial, user_name, policy FROM portal.devices WHERE workspace_id = $1 ORDER BY serial",
                _workspace(workspace_id),
            )

    async def accounts(self, workspace_id: str, portal: str, include_removed: bool) -> list[dict[str, Any]]:
        ws = _workspace(workspace_id)
        async with self.pool.acquire() as conn:
            rows = await accounts.list_for(conn, ws, portal, include_removed)
            out = []
            for r in rows:
                devs = await devices.of_user(conn, ws, r["user_name"]) if portal == "mdm" else []
                out.append({**dict(r), "devices": [dict(d) for d in devs]})
        return out

    async def groups(self, workspace_id: str, portal: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                """
                SELECT g.group_id, g.display_name,
                       coalesce(array_agg(u.user_name ORDER BY u.user_name) FILTER (WHERE u.user_name IS NOT NULL),
                                '{}') AS members
                  FROM portal.groups g
                  LEFT JOIN portal.group_members m ON m.group_id = g.group_id AND m.is_member
                  LEFT JOIN portal.directory_users u ON u.user_id = m.user_id
                 WHERE g.workspace_id = $1 AND g.portal = $2 AND NOT g.deleted
                 GROUP BY g.group_id, g.display_name ORDER BY g.display_name
                """,
                _workspace(workspace_id), portal,
            )
        return [dict(r) for r in rows]

    async def audit(self, workspace_id: str, user_name: str, limit: int) -> list[Any]:
        async with self.pool.acquire() as conn:
            return await audit.query(conn, _workspace(workspace_id), user_name, limit or 1000)

    async def dead_letters(self) -> list[Any]:
        async with self.pool.acquire() as conn:
            return await tracking.dead_letters(conn)
