"""The admin credential on gRPC: one server interceptor checks it, one client interceptor attaches it.

Every admin API (the directory's DirectoryAdmin, portal-actions' PortalAdmin, and any later one) is
guarded by the same shared secret in the `x-admin-token` metadata entry. The check runs before any
servicer code, compares in constant time, and an empty configured token disables the admin API rather
than leaving it open. SCIM bearer tokens are a different credential and never pass this check.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, cast

import grpc

METADATA_KEY = "x-admin-token"
REFUSED = "admin credential required"

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]]  # type: ignore[type-arg]


def admin_metadata(token: str) -> tuple[tuple[str, str]]:
    """The call metadata that carries `token`, for clients that pass metadata per call."""
    return ((METADATA_KEY, token),)


def credential_accepted(configured: str, supplied: str) -> bool:
    """Constant-time comparison; an empty configured token accepts nothing."""
    return bool(configured) and hmac.compare_digest(supplied.encode(), configured.encode())


def _supplied(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == METADATA_KEY:
            return value if isinstance(value, str) else value.decode(errors="replace")
    return ""


async def _refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSED)


class AdminCredentialCheck(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses calls to `services` (full proto names) that lack the admin credential; others pass through.

    Calls to other services on the same server (the directory's data API when the admin API shares its
    port) cost one prefix test.
    """

    def __init__(self, token: str, services: Iterable[str]) -> None:
        self._token = token
        self._prefixes = tuple(f"/{name}/" for name in services)

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:  # type: ignore[type-arg]
        handler = await continuation(handler_call_details)
        if handler is None or not handler_call_details.method.startswith(self._prefixes):
            return handler
        if credential_accepted(self._token, _supplied(handler_call_details.invocation_metadata)):
            return handler
        return grpc.unary_unary_rpc_method_handler(
            _refuse,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def admin_channel(
    target: str, token: str, options: Sequence[tuple[str, Any]] | None = None
) -> grpc.aio.Channel:
    """An insecure (in-cluster) aio channel whose every unary call carries the admin credential."""
    attach = cast("grpc.aio.ClientInterceptor", AdminCredentialAttach(token))
    return grpc.aio.insecure_channel(target, options=options, interceptors=[attach])


class AdminCredentialAttach(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Adds the admin credential to every unary call of an aio channel."""

    def __init__(self, token: str) -> None:
        self._metadata = admin_metadata(token)

    async def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Awaitable[Any]], client_call_details: Any, request: Any
    ) -> Any:
        details = client_call_details._replace(
            metadata=grpc.aio.Metadata(*(client_call_details.metadata or ()), *self._metadata)
        )
        return await continuation(details, request)
