"""The edge's only dependency: the directory's gRPC API. Maps RPC failures to SCIM errors in one place."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from scim_core import errors
from scim_core.kinds import ResourceKind
from scimsuite.directory.v1 import directory_pb2, directory_pb2_grpc
from suite_common.grpc_errors import scim_error_from_rpc

T = TypeVar("T")
KIND: dict[str, directory_pb2.ResourceType.ValueType] = {
    ResourceKind.USER: directory_pb2.RESOURCE_TYPE_USER,
    ResourceKind.GROUP: directory_pb2.RESOURCE_TYPE_GROUP,
}
# round_robin spreads calls over every address the target resolves to (a headless Service, or `ipv4:a,b`),
# and client-side health checking skips a replica as soon as its health turns NOT_SERVING: a directory
# that drains on SIGTERM stops receiving new calls before it stops listening.
SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": "scimsuite.directory.v1.DirectoryService"},
    }
)
_UNAVAILABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}


class DirectoryClient:
    def __init__(self, address: str, timeout_s: float) -> None:
        self.channel = grpc.aio.insecure_channel(
            address,
            options=[
                ("grpc.keepalive_time_ms", 20000),
                # Large groups come back whole on GET (~10 MB at 100,000 members); 4 MB is gRPC's default.
                ("grpc.max_receive_message_length", 128 * 1024 * 1024),
                ("grpc.max_send_message_length", 128 * 1024 * 1024),
                ("grpc.enable_retries", 1),
                ("grpc.service_config", SERVICE_CONFIG),
            ],
        )
        self.stub = directory_pb2_grpc.DirectoryServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self.timeout_s = timeout_s

    async def close(self) -> None:
        await self.channel.close(grace=None)

    async def call(
        self, method: Callable[..., Awaitable[T]], request: Any, authorization: str, client: str = ""
    ) -> T:
        """One directory call as the caller; `client` names the IdP recognised in the request, if any."""
        metadata: tuple[tuple[str, str], ...] = (("authorization", authorization),)
        if client in ("okta", "entra"):
            metadata += (("x-scim-client", client),)
        try:
            return await method(request, metadata=metadata, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            scim = scim_error_from_rpc(exc)
            if scim is not None:
                raise scim from None
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise errors.GatewayTimeout("the directory did not answer in time; retry later") from exc
            if exc.code() in _UNAVAILABLE:
                raise errors.Unavailable("the directory is unavailable; retry later") from exc
            raise

    async def serving(self) -> bool:
        try:
            reply = await self.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2.0)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
