"""The DirectoryAdmin gRPC servicer. The admin credential is checked before any of this runs
(`suite_common.admin_credential.AdminCredentialCheck`); errors map to statuses in `grpc_status.ADMIN_API`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from suite_common import jsonutil

from directory.domain.admin import Connection, Credentials, Workspace
from directory.entrypoints.grpc_status import ADMIN_API
from directory.errors import InvalidRequest
from directory.service_layer.admin import AdminService

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


def _ws(ws: Workspace) -> admin_pb2.Workspace:
    return admin_pb2.Workspace(id=str(ws.id), name=ws.name, created_at=ws.created_at.isoformat())


class AdminServicer(admin_pb2_grpc.DirectoryAdminServicer):
    def __init__(self, service: AdminService) -> None:
        self.service = service

    def _connection(self, c: Connection) -> admin_pb2.Connection:
        return admin_pb2.Connection(
            id=str(c.id),
            workspace_id=str(c.workspace_id),
            portal=c.portal,
            enabled=c.enabled,
            base_url=self.service.base_url(c.id),
            created_at=c.created_at.isoformat(),
            active_tokens=c.active_tokens,
            profile=c.profile,
            detected_idp=c.detected_idp or "",
        )

    def _credentials(self, creds: Credentials) -> admin_pb2.ScimCredentials:
        return admin_pb2.ScimCredentials(
            connection=self._connection(creds.connection),
            base_url=self.service.base_url(creds.connection.id),
            token=creds.token,
        )

    async def _run(self, context: Context, call: Callable[[], Awaitable[T]]) -> T:
        return await ADMIN_API.run(context, call)

    async def CreateWorkspace(
        self, request: admin_pb2.CreateWorkspaceRequest, context: Context
    ) -> admin_pb2.Workspace:
        return await self._run(context, lambda: self._create(request))

    async def _create(self, request: admin_pb2.CreateWorkspaceRequest) -> admin_pb2.Workspace:
        return _ws(await self.service.create_workspace(request.name, request.if_missing))

    async def GetWorkspace(
        self, request: admin_pb2.GetWorkspaceRequest, context: Context
    ) -> admin_pb2.Workspace:
        async def call() -> admin_pb2.Workspace:
            return _ws(await self.service.workspace(request.workspace))

        return await self._run(context, call)

    async def ListWorkspaces(
        self, request: admin_pb2.ListWorkspacesRequest, context: Context
    ) -> admin_pb2.ListWorkspacesResponse:
        async def call() -> admin_pb2.ListWorkspacesResponse:
            return admin_pb2.ListWorkspacesResponse(
                workspaces=[_ws(r) for r in await self.service.list_workspaces()]
            )

        return await self._run(context, call)

    async def EnableScim(
        self, request: admin_pb2.EnableScimRequest, context: Context
    ) -> admin_pb2.ScimCredentials:
        async def call() -> admin_pb2.ScimCredentials:
            return self._credentials(
                await self.service.enable(request.workspace, request.portal, request.profile)
            )

        return await self._run(context, call)

    async def SetScimProfile(
        self, request: admin_pb2.SetScimProfileRequest, context: Context
    ) -> admin_pb2.Connection:
        async def call() -> admin_pb2.Connection:
            return self._connection(
                await self.service.set_profile(request.workspace, request.portal, request.profile)
            )

        return await self._run(context, call)

    async def DisableScim(
        self, request: admin_pb2.DisableScimRequest, context: Context
    ) -> admin_pb2.Connection:
        async def call() -> admin_pb2.Connection:
            return self._connection(await self.service.disable(request.workspace, request.portal))

        return await self._run(context, call)

    async def RotateToken(
        self, request: admin_pb2.RotateTokenRequest, context: Context
    ) -> admin_pb2.ScimCredentials:
        async def call() -> admin_pb2.ScimCredentials:
            creds = await self.service.rotate(
                request.workspace, request.portal, float(request.overlap_seconds)
            )
            return self._credentials(creds)

        return await self._run(context, call)

    async def RevokeTokens(
        self, request: admin_pb2.RevokeTokensRequest, context: Context
    ) -> admin_pb2.RevokeTokensResponse:
        async def call() -> admin_pb2.RevokeTokensResponse:
            return admin_pb2.RevokeTokensResponse(
                revoked=await self.service.revoke(request.workspace, request.portal)
            )

        return await self._run(context, call)

    async def ListConnections(
        self, request: admin_pb2.ListConnectionsRequest, context: Context
    ) -> admin_pb2.ListConnectionsResponse:
        async def call() -> admin_pb2.ListConnectionsResponse:
            rows = await self.service.connections(request.workspace)
            return admin_pb2.ListConnectionsResponse(connections=[self._connection(r) for r in rows])

        return await self._run(context, call)

    async def ListUsers(
        self, request: admin_pb2.ListDirectoryResourcesRequest, context: Context
    ) -> admin_pb2.ListDirectoryUsersResponse:
        async def call() -> admin_pb2.ListDirectoryUsersResponse:
            rows = await self.service.users(request.workspace, request.portal)
            return admin_pb2.ListDirectoryUsersResponse(
                users=[
                    admin_pb2.DirectoryUser(
                        id=str(r.id),
                        user_name=r.user_name,
                        external_id=r.external_id or "",
                        active=r.active,
                        version=r.version,
                        resource_json=jsonutil.dumps(r.doc),
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)

    async def ListGroups(
        self, request: admin_pb2.ListDirectoryResourcesRequest, context: Context
    ) -> admin_pb2.ListDirectoryGroupsResponse:
        async def call() -> admin_pb2.ListDirectoryGroupsResponse:
            rows = await self.service.groups(request.workspace, request.portal)
            return admin_pb2.ListDirectoryGroupsResponse(
                groups=[
                    admin_pb2.DirectoryGroup(
                        id=str(r.id),
                        display_name=r.display_name,
                        version=r.version,
                        member_count=r.member_count,
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)

    async def SetCustomSchema(
        self, request: admin_pb2.SetCustomSchemaRequest, context: Context
    ) -> admin_pb2.SetCustomSchemaResponse:
        async def call() -> admin_pb2.SetCustomSchemaResponse:
            try:
                schema = jsonutil.loads(request.schema_json)
            except jsonutil.JSONDecodeError as exc:
                raise InvalidRequest("schema is not valid JSON") from exc
            if not isinstance(schema, dict):
                raise InvalidRequest("schema must be a JSON object")
            await self.service.set_custom_schema(request.workspace, request.portal, schema)
            return admin_pb2.SetCustomSchemaResponse()

        return await self._run(context, call)

    async def OutboxStatus(
        self, request: admin_pb2.OutboxStatusRequest, context: Context
    ) -> admin_pb2.OutboxStatusResponse:
        async def call() -> admin_pb2.OutboxStatusResponse:
            backlog = await self.service.outbox_backlog()
            return admin_pb2.OutboxStatusResponse(
                pending=backlog.pending, oldest_age_seconds=backlog.oldest_age_seconds
            )

        return await self._run(context, call)
