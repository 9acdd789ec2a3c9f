"""The admin APIs from tests: create a workspace, enable SCIM with a behaviour, read portal state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import grpc
from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from scimsuite.portal.v1 import portal_pb2, portal_pb2_grpc

from tests.support.stack import Stack


@dataclass(frozen=True)
class Tenant:
    workspace_id: str
    workspace: str
    portal: str
    base_url: str
    token: str
    connection_id: str


class Admin:
    def __init__(self, stack: Stack) -> None:
        self.md = (("x-admin-token", stack.admin_token),)
        self._dch = grpc.aio.insecure_channel(stack.directory_addr)
        self._pch = grpc.aio.insecure_channel(stack.portal_addr)
        self.directory = admin_pb2_grpc.DirectoryAdminStub(self._dch)
        self.portal = portal_pb2_grpc.PortalAdminStub(self._pch)

    async def close(self) -> None:
        await self._dch.close()
        await self._pch.close()

    async def workspace(self, name: str) -> str:
        ws = await self.directory.CreateWorkspace(
            admin_pb2.CreateWorkspaceRequest(name=name, if_missing=True), metadata=self.md
        )
        return str(ws.id)

    async def enable(self, workspace: str, portal: str, **behaviour: Any) -> Tenant:
        ws_id = await self.workspace(workspace)
        if behaviour:
            current = await self.portal.GetBehaviour(
                portal_pb2.GetBehaviourRequest(workspace_id=ws_id, portal=portal), metadata=self.md
            )
            b = portal_pb2.Behaviour()
            b.CopyFrom(current)
            for key, value in behaviour.items():
                setattr(b, key, value)
            await self.portal.SetBehaviour(portal_pb2.SetBehaviourRequest(behaviour=b), metadata=self.md)
        creds = await self.directory.EnableScim(
            admin_pb2.EnableScimRequest(workspace=ws_id, portal=portal), metadata=self.md
        )
        return Tenant(ws_id, workspace, portal, creds.base_url, creds.token, creds.connection.id)

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
