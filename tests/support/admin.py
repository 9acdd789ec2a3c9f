"""The admin APIs from tests: `devstack.admin`'s workspace and SCIM set-up, plus reading portal state."""

from __future__ import annotations

import json
from typing import Any

from devstack.admin import AdminClient, Tenant
from scimsuite.admin.v1 import admin_pb2
from scimsuite.portal.v1 import portal_pb2

__all__ = ["Admin", "Tenant"]


class Admin(AdminClient):
    async def set_profile(self, tenant: Tenant, profile: str) -> admin_pb2.Connection:
        """Pin the connection's IdP compatibility profile (or return it to `auto`)."""
        return await self.directory.SetScimProfile(
            admin_pb2.SetScimProfileRequest(
                workspace=tenant.workspace_id, portal=tenant.portal, profile=profile
            ),
            metadata=self.md,
        )

    async def connection(self, tenant: Tenant) -> admin_pb2.Connection:
        reply = await self.directory.ListConnections(
            admin_pb2.ListConnectionsRequest(workspace=tenant.workspace_id), metadata=self.md
        )
        return next(c for c in reply.connections if c.id == tenant.connection_id)

    async def accounts(self, tenant: Tenant, include_removed: bool = False) -> dict[str, dict[str, Any]]:
        reply = await self.portal.ListAccounts(
            portal_pb2.ListAccountsRequest(
                workspace_id=tenant.workspace_id, portal=tenant.portal, include_removed=include_removed
            ),
            metadata=self.md,
        )
        return {
            a.user_name: {
                "status": a.status,
                "role": a.role,
                "metadata": json.loads(a.metadata_json or b"{}"),
                "groups": list(a.groups),
                "devices": [(d.serial, d.policy) for d in a.devices],
            }
            for a in reply.accounts
        }

    async def audit(self, tenant: Tenant, user_name: str = "") -> list[portal_pb2.AuditEntry]:
        reply = await self.portal.QueryAudit(
            portal_pb2.QueryAuditRequest(workspace_id=tenant.workspace_id, user_name=user_name, limit=10000),
            metadata=self.md,
        )
        return list(reply.entries)
