"""Admin use cases of the portals: behaviours, mappings, policies, devices, accounts, groups and the audit.

Every change validates first and writes in one transaction, so a rejected request leaves the previous
configuration in force.
"""

from __future__ import annotations

from dataclasses import replace

import asyncpg
from scim_core.kinds import Portal

from portal_actions.adapters.postgres import accounts, audit, configuration, devices, mirror, tracking
from portal_actions.domain.admin_views import (
    Account,
    AttributeMapping,
    AuditEntry,
    DeadLetterEntry,
    Device,
    PortalGroup,
    RoleMapping,
)
from portal_actions.domain.attribute_mapping import InvalidMapping, check_mapping
from portal_actions.domain.behaviour import (
    ROLES,
    Behaviour,
    InvalidBehaviour,
    default_behaviour,
    normalize_role,
)
from portal_actions.errors import NotFound
from portal_actions.service_layer.refs import portal_ref, workspace_ref

__all__ = ["NotFound", "PortalAdmin"]


class PortalAdmin:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def set_behaviour(self, behaviour: Behaviour) -> Behaviour:
        b = Behaviour(
            workspace_id=workspace_ref(behaviour.workspace_id),
            portal=portal_ref(behaviour.portal),
            on_create=behaviour.on_create.strip().lower(),
            on_deactivate=behaviour.on_deactivate.strip().lower(),
            default_role=normalize_role(behaviour.default_role or "viewer"),
            deactivate_policy=behaviour.deactivate_policy.strip(),
            role_settle_seconds=behaviour.role_settle_seconds,
        ).validate()
        async with self.pool.acquire() as conn, conn.transaction():
            if b.on_deactivate == "change-policy" and not await configuration.policy_exists(
                conn, b.workspace_id, b.deactivate_policy
            ):
                raise InvalidBehaviour(f"policy {b.deactivate_policy!r} does not exist; add it first")
            await configuration.save_behaviour(conn, b)
        return b

    async def behaviour(self, workspace_id: str, portal: str) -> Behaviour:
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        async with self.pool.acquire() as conn:
            found = await configuration.behaviour(conn, ws, p)
        return found or default_behaviour(ws, p)

    async def map_role(self, workspace_id: str, group: str, role: str) -> tuple[str, str]:
        role = normalize_role(role)
        if role not in ROLES:
            raise InvalidBehaviour(
                f"unknown role {role!r}; choose admin, developer (editor), viewer or unassigned"
            )
        if not group.strip():
            raise InvalidBehaviour("group name must not be empty")
        async with self.pool.acquire() as conn:
            await configuration.save_role_mapping(conn, workspace_ref(workspace_id), group.strip(), role)
        return group.strip(), role

    async def role_mappings(self, workspace_id: str) -> list[RoleMapping]:
        async with self.pool.acquire() as conn:
            return await configuration.role_mappings(conn, workspace_ref(workspace_id))

    async def map_attribute(
        self, workspace_id: str, portal: str, scim_attribute: str, key: str
    ) -> tuple[str, str]:
        try:
            attribute, key = check_mapping(scim_attribute, key)
        except InvalidMapping as exc:
            raise InvalidBehaviour(str(exc)) from exc
        async with self.pool.acquire() as conn, conn.transaction():
            await configuration.save_attribute_mapping(
                conn, workspace_ref(workspace_id), portal_ref(portal), attribute, key
            )
        return attribute, key

    async def attribute_mappings(self, workspace_id: str, portal: str) -> list[AttributeMapping]:
        async with self.pool.acquire() as conn:
            return await configuration.attribute_mappings(
                conn, workspace_ref(workspace_id), portal_ref(portal)
            )

    async def add_policy(self, workspace_id: str, name: str) -> str:
        if not name.strip():
            raise InvalidBehaviour("policy name must not be empty")
        async with self.pool.acquire() as conn:
            await configuration.add_policy(conn, workspace_ref(workspace_id), name.strip())
        return name.strip()

    async def remove_policy(self, workspace_id: str, name: str) -> None:
        """Devices keep the name; a behaviour that moves devices to it records a failure instead."""
        async with self.pool.acquire() as conn:
            if not await configuration.remove_policy(conn, workspace_ref(workspace_id), name):
                raise NotFound(f"no policy {name!r}")

    async def policies(self, workspace_id: str) -> list[str]:
        async with self.pool.acquire() as conn:
            return await configuration.policies(conn, workspace_ref(workspace_id))

    async def add_device(self, workspace_id: str, serial: str, user_name: str, policy: str) -> Device:
        ws = workspace_ref(workspace_id)
        if not serial.strip():
            raise InvalidBehaviour("serial must not be empty")
        async with self.pool.acquire() as conn, conn.transaction():
            if policy and not await configuration.policy_exists(conn, ws, policy):
                raise InvalidBehaviour(f"policy {policy!r} does not exist; add it first")
            return await devices.register(conn, ws, serial.strip(), user_name.strip() or None, policy or None)

    async def assign_device(self, workspace_id: str, serial: str, user_name: str) -> Device:
        async with self.pool.acquire() as conn:
            row = await devices.assign(conn, workspace_ref(workspace_id), serial, user_name.strip() or None)
        if row is None:
            raise NotFound(f"no device {serial!r}")
        return row

    async def set_device_policy(self, workspace_id: str, serial: str, policy: str) -> Device:
        ws = workspace_ref(workspace_id)
        async with self.pool.acquire() as conn, conn.transaction():
            if policy and not await configuration.policy_exists(conn, ws, policy):
                raise InvalidBehaviour(f"policy {policy!r} does not exist; add it first")
            row = await devices.set_policy(conn, ws, serial, policy or None)
        if row is None:
            raise NotFound(f"no device {serial!r}")
        return row

    async def remove_device(self, workspace_id: str, serial: str) -> None:
        async with self.pool.acquire() as conn:
            if not await devices.remove(conn, workspace_ref(workspace_id), serial):
                raise NotFound(f"no device {serial!r}")

    async def devices(self, workspace_id: str) -> list[Device]:
        async with self.pool.acquire() as conn:
            return await devices.list_all(conn, workspace_ref(workspace_id))

    async def accounts(self, workspace_id: str, portal: str, include_removed: bool) -> list[Account]:
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        async with self.pool.acquire() as conn:
            found = await accounts.list_for(conn, ws, p, include_removed)
            if p != Portal.MDM:
                return found
            return [
                replace(a, devices=tuple(await devices.user_devices(conn, ws, a.user_name))) for a in found
            ]

    async def groups(self, workspace_id: str, portal: str, member: str = "") -> list[PortalGroup]:
        async with self.pool.acquire() as conn:
            return await mirror.portal_groups(
                conn, workspace_ref(workspace_id), portal_ref(portal), member.strip()
            )

    async def audit(self, workspace_id: str, user_name: str, limit: int) -> list[AuditEntry]:
        async with self.pool.acquire() as conn:
            return await audit.query(conn, workspace_ref(workspace_id), user_name, limit or 1000)

    async def dead_letters(self) -> list[DeadLetterEntry]:
        async with self.pool.acquire() as conn:
            return await tracking.dead_letters(conn)
