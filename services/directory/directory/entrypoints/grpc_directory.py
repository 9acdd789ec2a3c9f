"""The DirectoryService gRPC servicer: authenticate the caller's token, run the use case, map errors once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import grpc
from scim_core import errors
from scimsuite.directory.v1 import directory_pb2, directory_pb2_grpc
from suite_common import jsonutil
from suite_common.grpc_errors import abort_with
from suite_common.logs import bind
from suite_common.pg import CONNECTION_ERRORS

from directory.adapters.postgres import tenants
from directory.domain.profiles import ENTRA, effective_profile, recognised
from directory.domain.tenancy import ConnectionContext, bearer_from_header, token_hash
from directory.service_layer.credentials_cache import CredentialsCache
from directory.service_layer.cursor_listing import CursorLister
from directory.service_layer.resources import Projection, RequestInfo, ResourceService

log = logging.getLogger(__name__)
T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]

KINDS = {directory_pb2.RESOURCE_TYPE_USER: "User", directory_pb2.RESOURCE_TYPE_GROUP: "Group"}


def _projection(p: directory_pb2.Projection) -> Projection:
    return Projection(tuple(p.attributes), tuple(p.excluded_attributes))


def _kind(value: int) -> str:
    kind: str | None = KINDS.get(value)  # type: ignore[call-overload]
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
        self,
        pool: asyncpg.Pool,
        service: ResourceService,
        lister: CursorLister | None = None,
        credentials: CredentialsCache | None = None,
    ) -> None:
        self.pool = pool
        self.service = service
        self.lister = lister  # None: RFC 9865 cursors are not offered
        self.credentials = credentials
        # The IdP this replica last recorded per connection: a change is written once, not once per
        # request while the credentials caches catch up with it.
        self._recorded: dict[str, str] = {}

    async def _note_client(self, ctx: ConnectionContext, client: str | None) -> None:
        """Record the IdP the edge recognised on the connection, only when it differs from what is stored."""
        if client is None or client == ctx.detected_idp or self._recorded.get(ctx.connection_id) == client:
            return
        if len(self._recorded) >= 10_000:
            self._recorded.clear()
        self._recorded[ctx.connection_id] = client
        async with self.pool.acquire() as conn:
            if await tenants.record_detected_idp(conn, ctx.connection_id, client):
                log.info("identity provider recognised", extra={"idp": client, "previous": ctx.detected_idp})
        if self.credentials:
            # The trigger's NOTIFY clears every replica's cache; this one need not wait for it.
            self.credentials.invalidate()

    def _profile(self, context: Context, ctx: ConnectionContext) -> str:
        """The compatibility profile this request is answered with (README "Profiles")."""
        client = recognised(str(dict(context.invocation_metadata() or ()).get("x-scim-client", "")))
        return effective_profile(ctx.profile, client, ctx.detected_idp)

    async def _authenticate(self, context: Context, connection_id: str) -> ConnectionContext:
        metadata = dict(context.invocation_metadata() or ())
        header = metadata.get("authorization", "")
        token = bearer_from_header(str(header))
        if not token:
            raise errors.Unauthorized("missing bearer token")
        digest = token_hash(token)
        ctx = self.credentials.get(digest) if self.credentials else None
        if ctx is None:
            generation = self.credentials.generation if self.credentials else 0
            async with self.pool.acquire() as conn:
                found = await tenants.lookup_token(conn, digest)
            if found is not None:
                ctx = found[0]
                if self.credentials:
                    self.credentials.put(digest, ctx, found[1], generation)
        # A token for another connection is treated exactly like an unknown token: nothing is revealed.
        if ctx is None or ctx.connection_id != connection_id:
            raise errors.Unauthorized("invalid bearer token")
        client = recognised(str(metadata.get("x-scim-client", "")))
        bind(workspace=ctx.workspace_id, portal=ctx.portal, connection_id=ctx.connection_id, idp=client or "")
        await self._note_client(ctx, client)
        return ctx

    async def _run(self, context: Context, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except errors.ScimError as exc:
            await abort_with(context, exc)
        except asyncpg.LockNotAvailableError:
            await abort_with(context, errors.Unavailable("the resource is busy; retry"))
        except CONNECTION_ERRORS as exc:
            log.warning("database unavailable", exc_info=exc)
            await abort_with(context, errors.Unavailable("the directory database is unavailable"))
        raise AssertionError("unreachable")  # abort_with always raises

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
