"""The admin APIs a caller needs to provision through a running stack: a workspace, a portal's behaviour,
SCIM enabled with a token. Shared by the tests and the benchmark (the tests add read-backs on top)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from scimsuite.portal.v1 import portal_pb2, portal_pb2_grpc
from suite_common.admin_credential import admin_metadata

from devstack.stack import Stack


@dataclass(frozen=True)
class Tenant:
    workspace_id: str
    workspace: str
    portal: str
    base_url: str
    token: str
    connection_id: str

    def on(self, edge_url: str) -> str:
        """This tenant's Base URL on one edge: `base_url` names the public host, which a test or the
        benchmark on loopback does not serve."""
        return f"{edge_url}/scim/v2/{self.base_url.split('/scim/v2/', 1)[1]}"


class AdminClient:
    """gRPC admin clients of the first directory and portal-actions replica of `stack`."""

    def __init__(self, stack: Stack) -> None:
        self.md = admin_metadata(stack.admin_token)
        self._dch = grpc.aio.insecure_channel(stack.directory_addr)
        self._pch = grpc.aio.insecure_channel(stack.portal_addr)
        self.directory = admin_pb2_grpc.DirectoryAdminStub(self._dch)
        self.portal = portal_pb2_grpc.PortalAdminStub(self._pch)

    async def close(self) -> None:
        await self._dch.close(None)
        await self._pch.close(None)

    async def workspace(self, name: str) -> str:
        ws = await self.directory.CreateWorkspace(
            admin_pb2.CreateWorkspaceRequest(name=name, if_missing=True), metadata=self.md
        )
        return str(ws.id)

    async def enable(self, workspace: str, portal: str, **behaviour: Any) -> Tenant:
        """SCIM on `portal` of `workspace` (created if missing), with the given Behaviour fields set first."""
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
