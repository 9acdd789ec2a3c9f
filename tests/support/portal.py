"""Reading portal state in end-to-end tests, and waiting until an event has been applied.

A behaviour of `nothing` leaves no state to wait for, so tests wait for the audit entry instead: every
user event that reaches a portal records at least one entry, `none` included.
"""

from __future__ import annotations

from scimsuite.portal.v1 import portal_pb2

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually


async def audit_entries(admin: Admin, tenant: Tenant, user_name: str) -> list[portal_pb2.AuditEntry]:
    """The user's entries in the tenant's portal, oldest first."""
    entries = await admin.audit(tenant, user_name)
    return [e for e in reversed(entries) if e.portal == tenant.portal]


async def wait_for_action(
    admin: Admin, tenant: Tenant, user_name: str, action: str, occurrence: int = 1
) -> list[portal_pb2.AuditEntry]:
    """Wait until `action` was recorded `occurrence` times for the user; return all their entries."""

    async def recorded() -> list[portal_pb2.AuditEntry]:
        entries = await audit_entries(admin, tenant, user_name)
        seen = [e.action for e in entries]
        assert seen.count(action) >= occurrence, seen
        return entries

    return await assert_eventually(recorded)


async def devices(admin: Admin, tenant: Tenant) -> dict[str, tuple[str, str]]:
    """serial → (assigned userName or "", policy or "")."""
    reply = await admin.portal.ListDevices(
        portal_pb2.ListDevicesRequest(workspace_id=tenant.workspace_id), metadata=admin.md
    )
    return {d.serial: (d.user_name, d.policy) for d in reply.devices}


async def groups(admin: Admin, tenant: Tenant, member: str = "") -> dict[str, list[str]]:
    """displayName → member userNames, of the tenant's portal."""
    reply = await admin.portal.ListGroups(
        portal_pb2.ListGroupsRequest(
            workspace_id=tenant.workspace_id, portal=tenant.portal, member_user_name=member
        ),
        metadata=admin.md,
    )
    return {g.display_name: list(g.member_user_names) for g in reply.groups}
