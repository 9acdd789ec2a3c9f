"""The DirectoryService gRPC servicer: authenticate the caller's token, run the use case, map errors once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from scim_core import errors
from scim_core.kinds import ResourceKind
from scimsuite.directory.v1 import directory_pb2, directory_pb2_grpc
from suite_common import jsonutil
from suite_common.logs import bind

from directory.domain.profiles import ENTRA, effective_profile, recognised
from directory.domain.tenancy import ConnectionContext
from directory.entrypoints.grpc_status import DATA_API
from directory.service_layer.authentication import Authenticator
from directory.service_layer.cursor_listing import CursorLister
from directory.service_layer.resources import Projection, RequestInfo, ResourceService

log = logging.getLogger(__name__)
T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]

KINDS = {
    directory_pb2.RESOURCE_TYPE_USER: ResourceKind.USER,
    directory_pb2.RESOURCE_TYPE_GROUP: ResourceKind.GROUP,
}


def _projection(p: directory_pb2.Projection) -> Projection:
    return Projection(tuple(p.attributes), tuple(p.excluded_attributes))


def _kind(value: int) -> ResourceKind:
    kind: ResourceKind | None = KINDS.get(value)  # type: ignore[call-overload]
    if kind is None:
        raise errors.InvalidValue("unknown resource type")
    return kind


def _body(raw: bytes) -> Any:
    try:
        return jsonutil.loads(raw)
    except jsonutil.JSONDecodeError as exc:
        raise errors.InvalidSyntax("request body is not valid JSON") from exc


def _object(raw: bytes) -> dict[str, Any]:
    body = _body(raw)
    if not isinstance(body, dict):
        raise errors.InvalidSyntax("request body must be a JSON object")
    return body


class DirectoryServicer(directory_pb2_grpc.DirectoryServiceServicer):
    def __init__(
        self, authenticator: Authenticator, service: ResourceService, lister: CursorLister | None = None
    ) -> None:
        self.authenticator = authenticator
        self.service = service
        self.lister = lister  # None: RFC 9865 cursors are not offered

    async def _authenticate(self, context: Context, connection_id: str) -> ConnectionContext:
        metadata = dict(context.invocation_metadata() or ())
        ctx = await self.authenticator.connection(str(metadata.get("authorization", "")), connection_id)
        client = recognised(str(metadata.get("x-scim-client", "")))
        bind(workspace=ctx.workspace_id, portal=ctx.portal, connection_id=ctx.connection_id, idp=client or "")
        await self.authenticator.note_client(ctx, client)
        return ctx

    @staticmethod
    def _profile(context: Context, ctx: ConnectionContext) -> str:
        """The compatibility profile this request is answered with (README "Profiles")."""
        client = recognised(str(dict(context.invocation_metadata() or ()).get("x-scim-client", "")))
        return effective_profile(ctx.profile, client, ctx.detected_idp)

    async def _run(self, context: Context, call: Callable[[], Awaitable[T]]) -> T:
        return await DATA_API.run(context, call)

    async def DescribeConnection(
        self, request: directory_pb2.DescribeConnectionRequest, context: Context
    ) -> directory_pb2.DescribeConnectionResponse:
        async def call() -> directory_pb2.DescribeConnectionResponse:
            ctx = await self._authenticate(context, request.connection_id)
            return directory_pb2.DescribeConnectionResponse(
                connection_id=ctx.connection_id,
                workspace_id=ctx.workspace_id,
                portal=ctx.portal,
                custom_schemas_json=jsonutil.dumps(list(ctx.custom_schemas)),
                cursor_timeout_seconds=self.lister.codec.timeout_s if self.lister else 0,
            )

        return await self._run(context, call)

    async def CreateResource(
        self, request: directory_pb2.CreateResourceRequest, context: Context
    ) -> directory_pb2.ResourceResponse:
        async def call() -> directory_pb2.ResourceResponse:
            ctx = await self._authenticate(context, request.connection_id)
            stored = await self.service.create(
                ctx,
                _kind(request.resource_type),
                _object(request.resource_json),
                RequestInfo(request.request_id, "POST"),
                _projection(request.projection),
            )
            return directory_pb2.ResourceResponse(
                resource_json=jsonutil.dumps(stored.resource),
                version=stored.version,
                profile=self._profile(context, ctx),
            )

        return await self._run(context, call)

    async def GetResource(
        self, request: directory_pb2.GetResourceRequest, context: Context
    ) -> directory_pb2.ResourceResponse:
        async def call() -> directory_pb2.ResourceResponse:
            ctx = await self._authenticate(context, request.connection_id)
            stored = await self.service.get(
                ctx, _kind(request.resource_type), request.id, _projection(request.projection)
            )
            return directory_pb2.ResourceResponse(
                resource_json=jsonutil.dumps(stored.resource),
                version=stored.version,
                profile=self._profile(context, ctx),
            )

        return await self._run(context, call)

    async def ReplaceResource(
        self, request: directory_pb2.ReplaceResourceRequest, context: Context
    ) -> directory_pb2.ResourceResponse:
        async def call() -> directory_pb2.ResourceResponse:
            ctx = await self._authenticate(context, request.connection_id)
            expected = request.expected_version if request.HasField("expected_version") else None
            stored = await self.service.replace(
                ctx,
                _kind(request.resource_type),
                request.id,
                _object(request.resource_json),
                expected,
                RequestInfo(request.request_id, "PUT"),
                _projection(request.projection),
            )
            return directory_pb2.ResourceResponse(
                resource_json=jsonutil.dumps(stored.resource),
                version=stored.version,
                profile=self._profile(context, ctx),
            )

        return await self._run(context, call)

    async def PatchResource(
        self, request: directory_pb2.PatchResourceRequest, context: Context
    ) -> directory_pb2.ResourceResponse:
        async def call() -> directory_pb2.ResourceResponse:
            ctx = await self._authenticate(context, request.connection_id)
            expected = request.expected_version if request.HasField("expected_version") else None
            profile = self._profile(context, ctx)
            projection = _projection(request.projection)
            if profile == ENTRA and not (projection.attributes or projection.excluded):
                # Answered with 204: neither members nor groups are read for a body nobody gets.
                projection = Projection(attributes=("id",))
            stored = await self.service.patch(
                ctx,
                _kind(request.resource_type),
                request.id,
                _body(request.patch_json),
                expected,
                RequestInfo(request.request_id, "PATCH"),
                projection,
            )
            return directory_pb2.ResourceResponse(
                resource_json=jsonutil.dumps(stored.resource), version=stored.version, profile=profile
            )

        return await self._run(context, call)

    async def DeleteResource(
        self, request: directory_pb2.DeleteResourceRequest, context: Context
    ) -> directory_pb2.DeleteResourceResponse:
        async def call() -> directory_pb2.DeleteResourceResponse:
            ctx = await self._authenticate(context, request.connection_id)
            expected = request.expected_version if request.HasField("expected_version") else None
            await self.service.delete(
                ctx,
                _kind(request.resource_type),
                request.id,
                expected,
                RequestInfo(request.request_id, "DELETE"),
            )
            return directory_pb2.DeleteResourceResponse()

        return await self._run(context, call)

    async def ListResources(
        self, request: directory_pb2.ListResourcesRequest, context: Context
    ) -> directory_pb2.ListResourcesResponse:
        async def call() -> directory_pb2.ListResourcesResponse:
            ctx = await self._authenticate(context, request.connection_id)
            profile = self._profile(context, ctx)
            if request.use_cursor:
                reply = await self._list_by_cursor(ctx, request)
                reply.profile = profile
                return reply
            start = max(request.start_index, 1)
            listing = await self.service.list(
                ctx,
                _kind(request.resource_type),
                filter_text=request.filter,
                sort_by=request.sort_by,
                descending=request.sort_descending,
                offset=start - 1,
                limit=max(request.count, 0),
                projection=_projection(request.projection),
            )
            return directory_pb2.ListResourcesResponse(
                resources_json=[jsonutil.dumps(r) for r in listing.resources],
                total_results=listing.total,
                start_index=start,
                profile=profile,
            )

        return await self._run(context, call)

    async def _list_by_cursor(
        self, ctx: ConnectionContext, request: directory_pb2.ListResourcesRequest
    ) -> directory_pb2.ListResourcesResponse:
        if self.lister is None:
            raise errors.NotImplementedByUs("cursor pagination (RFC 9865) is not enabled")
        page = await self.lister.list(
            ctx,
            _kind(request.resource_type),
            filter_text=request.filter,
            sort_by=request.sort_by,
            descending=request.sort_descending,
            cursor=request.cursor,
            limit=max(request.count, 0),
            projection=_projection(request.projection),
        )
        return directory_pb2.ListResourcesResponse(
            resources_json=[jsonutil.dumps(r) for r in page.resources],
            total_results=page.total,
            next_cursor=page.next_cursor,
            previous_cursor=page.previous_cursor,
        )
