"""The gRPC health protocol (grpc.health.v1) as the services and their probes use it.

Readiness probes and the edge's client-side health checks ask for the overall status (service "") or a
service name; those follow the service's dependencies and turn NOT_SERVING first on SIGTERM. Liveness
probes ask for `liveness`, which is SERVING for as long as the process answers at all: a database
outage makes a pod unready, never restarts it.

The servicer here replaces grpc_health's aio reference servicer because that one's `Watch` writes
through `context.write()`, which OpenTelemetry's server instrumentation cannot wrap (it iterates a
streaming handler's results): with tracing on, every Watch failed, and the edges' health checks with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

LIVENESS = "liveness"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
Context = grpc.aio.ServicerContext[Any, Any]


class HealthServicer(health_pb2_grpc.HealthServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self._status: dict[str, int] = {"": SERVING}
        self._changed = asyncio.Event()
        self._shutting_down = False

    async def set(self, service: str, status: int) -> None:
        if self._shutting_down:
            return
        self._set(service, status)

    def _set(self, service: str, status: int) -> None:
        self._status[service] = status
        # Wake every watcher: each took the current event before reading, so none misses a change.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def enter_graceful_shutdown(self) -> None:
        """Every service NOT_SERVING for good, except liveness: the process still answers while it drains."""
        self._shutting_down = True
        for service in list(self._status):
            if service != LIVENESS:
                self._set(service, NOT_SERVING)

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        status = self._status.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: Context) -> AsyncIterator[Any]:
        last = None
        while True:
            changed = self._changed
            status = self._status.get(request.service, _UNKNOWN)
            if status != last:
                yield health_pb2.HealthCheckResponse(status=status)
                last = status
            await changed.wait()
