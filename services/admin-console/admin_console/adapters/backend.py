"""The console's only dependencies: the admin gRPC APIs of the directory, portal-actions and security-events.

Every call carries the admin credential (suite_common's client interceptor); gRPC failures become the
three errors the pages handle, in this one place:

    BackendError
     ├── NotFound       NOT_FOUND (an unknown or foreign id: the page answers 404)
     ├── Rejected       INVALID_ARGUMENT / ALREADY_EXISTS / FAILED_PRECONDITION (shown next to the form)
     └── Unavailable    anything else (UNAVAILABLE, DEADLINE_EXCEEDED, a refused admin credential: 503)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from scimsuite.admin.v1 import admin_pb2_grpc
from scimsuite.console.v1 import console_pb2_grpc
from scimsuite.events_out.v1 import events_out_pb2_grpc
from scimsuite.portal.v1 import portal_pb2_grpc
from suite_common.admin_credential import AdminCredentialAttach, admin_metadata

T = TypeVar("T")


class BackendError(Exception):
    pass


class NotFound(BackendError):
    pass


class Rejected(BackendError):
    pass


class Unavailable(BackendError):
    pass


_REJECTED = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
}


def _translated(exc: grpc.aio.AioRpcError) -> BackendError:
    code, detail = exc.code(), exc.details() or exc.code().name
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(detail)
    if code in _REJECTED:
        return Rejected(detail)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unavailable("the admin APIs refused the console's admin credential")
    return Unavailable(f"{code.name}: {detail}")


class Backend:
    def __init__(
        self, directory_addr: str, portal_addr: str, admin_token: str, timeout_s: float, *, events_addr: str
    ) -> None:
        options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
        attach: list[Any] = [
            AdminCredentialAttach(admin_token)
        ]  # grpc-stubs type client interceptors narrowly
        self._dch = grpc.aio.insecure_channel(directory_addr, options=options, interceptors=attach)
        self._pch = grpc.aio.insecure_channel(portal_addr, options=options, interceptors=attach)
        # Not a readiness dependency: without security-events only the event-stream pages answer 503.
        self._ech = grpc.aio.insecure_channel(events_addr, options=options, interceptors=attach)
        self.directory = admin_pb2_grpc.DirectoryAdminStub(self._dch)
        self.console = console_pb2_grpc.ConsoleDirectoryStub(self._dch)
        self.portal = portal_pb2_grpc.PortalAdminStub(self._pch)
        self.console_portal = console_pb2_grpc.ConsolePortalStub(self._pch)
        self.events = events_out_pb2_grpc.SecurityEventsAdminStub(self._ech)
        self._health = [health_pb2_grpc.HealthStub(self._dch), health_pb2_grpc.HealthStub(self._pch)]
        self.timeout_s = timeout_s
        # The attach interceptor covers unary calls only; streams carry the credential themselves.
        self._metadata = admin_metadata(admin_token)

    async def close(self) -> None:
        await self._dch.close(None)
        await self._pch.close(None)
        await self._ech.close(None)

    async def call(self, method: Callable[..., Awaitable[T]], request: Any) -> T:
        try:
            return await method(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _translated(exc) from None

    async def stream(self, method: Callable[..., Any], request: Any, timeout_s: float) -> AsyncIterator[Any]:
        """A server-streaming call (the drift report), message by message; leaving the loop early cancels
        the call. `timeout_s` bounds the whole stream, not one message."""
        call = method(request, timeout=timeout_s, metadata=self._metadata)
        try:
            async for message in call:
                yield message
        except grpc.aio.AioRpcError as exc:
            raise _translated(exc) from None
        finally:
            call.cancel()

    async def directory_serving(self) -> bool:
        return await self._serving(self._health[0])

    async def portal_serving(self) -> bool:
        return await self._serving(self._health[1])

    @staticmethod
    async def _serving(stub: health_pb2_grpc.HealthStub) -> bool:
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2.0)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
