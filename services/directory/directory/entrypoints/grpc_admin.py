"""The DirectoryAdmin gRPC servicer, guarded by the admin credential (never reachable through SCIM)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import grpc
from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from suite_common import jsonutil

from directory.adapters.postgres import outbox
from directory.service_layer.admin import AdminError, AdminService, Credentials

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


def _ws(row: asyncpg.Record) -> admin_pb2.Workspace:
    return admin_pb2.Workspace(id=str(row["id"]), name=row["name"], created_at=row["created_at"].isoformat())


class AdminServicer(admin_pb2_grpc.DirectoryAdminServicer):
    def __init__(self, service: AdminService, admin_token: str) -> None:
        self.service = service
        self.admin_token = admin_token

    def _connection(self, row: asyncpg.Record) -> admin_pb2.Connection:
        return admin_pb2.Connection(
            id=str(row["id"]),
            workspace_id=str(row["workspace_id"]),
            portal=row["portal"],
            enabled=row["enabled"],
            base_url=self.service.base_url(row["id"]),
            created_at=row["created_at"].isoformat(),
            active_tokens=row["active_tokens"],
            profile=row["scim_profile"],
            detected_idp=row["detected_idp"] or "",
        )

    def _credentials(self, creds: Credentials) -> admin_pb2.ScimCredentials:
        return admin_pb2.ScimCredentials(
            connection=self._connection(creds.connection),
            base_url=self.service.base_url(creds.connection["id"]),
            token=creds.token,
        )

    async def _run(self, context: Context, call: Callable[[], Awaitable[T]]) -> T:
        supplied = str(dict(context.invocation_metadata() or ()).get("x-admin-token", ""))
        # An empty configured token disables the admin API rather than leaving it open.
        if not self.admin_token or not hmac.compare_digest(supplied.encode(), self.admin_token.encode()):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "admin credential required")
        try:
            return await call()
        except AdminError as exc:
            await context.abort(getattr(grpc.StatusCode, exc.code), str(exc))
        raise AssertionError("unreachable")

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
                        id=str(r["id"]),
                        user_name=r["user_name"],
                        external_id=r["external_id"] or "",
                        active=r["active"],
                        version=r["version"],
                        resource_json=jsonutil.dumps(r["doc"]),
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
                        id=str(r["id"]),
                        display_name=r["display_name"],
                        version=r["version"],
                        member_count=r["member_count"],
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
                raise AdminError("INVALID_ARGUMENT", "schema is not valid JSON") from exc
            if not isinstance(schema, dict):
                raise AdminError("INVALID_ARGUMENT", "schema must be a JSON object")
            await self.service.set_custom_schema(request.workspace, request.portal, schema)
            return admin_pb2.SetCustomSchemaResponse()

        return await self._run(context, call)

    async def OutboxStatus(
        self, request: admin_pb2.OutboxStatusRequest, context: Context
    ) -> admin_pb2.OutboxStatusResponse:
        async def call() -> admin_pb2.OutboxStatusResponse:
            async with self.service.pool.acquire() as conn:
                pending, age = await outbox.backlog(conn)
            return admin_pb2.OutboxStatusResponse(pending=pending, oldest_age_seconds=age)

        return await self._run(context, call)
