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
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from suite_common.db_statements import mark_background
from suite_common.waiting import wait_or_timeout

log = logging.getLogger(__name__)

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


Check = Callable[[], Awaitable[bool]]


class DependencyHealth:
    """Readiness from named dependency checks, published on a `HealthServicer` and readable in-process.

    `run()` re-checks every `interval_s` until `stopping` is set; `closing()` turns readiness off for good,
    first thing on shutdown, so load balancers and the edges' client-side health checks stop picking this
    replica before its listener closes. A check that raises counts as failing.
    """

    def __init__(
        self, checks: Mapping[str, Check], services: Sequence[str] = (), interval_s: float = 2.0
    ) -> None:
        self.servicer = HealthServicer()
        self.servicer._set(LIVENESS, SERVING)  # for as long as the process answers at all
        self.checks = dict(checks)
        self.services = ["", *services]
        self.interval_s = interval_s
        self.draining = False
        self.failing: list[str] = []

    async def check_once(self) -> list[str]:
        """The names of the dependencies that fail now (empty: ready)."""
        failing = []
        for name, check in self.checks.items():
            try:
                ok = await check()
            except Exception as exc:  # any failure means "not ready"
                log.warning("health check failed", extra={"dependency": name, "error": str(exc)})
                ok = False
            if not ok:
                failing.append(name)
        self.failing = failing
        return failing

    @property
    def serving(self) -> bool:
        return not self.draining and not self.failing

    async def _publish(self) -> None:
        status = SERVING if self.serving else NOT_SERVING
        for name in self.services:
            await self.servicer.set(name, status)

    async def run(self, stopping: asyncio.Event) -> None:
        mark_background()
        while not stopping.is_set() and not self.draining:
            await self.check_once()
            # A check that was in flight when shutdown began must not turn readiness back on.
            if not self.draining:
                await self._publish()
            await wait_or_timeout(stopping, self.interval_s)

    async def closing(self, pause_s: float = 0.0) -> None:
        """Readiness off for good, then `pause_s` for watchers to notice before the listener closes."""
        self.draining = True
        for name in self.services:  # named even if no check had published them yet
            await self.servicer.set(name, NOT_SERVING)
        await self.servicer.enter_graceful_shutdown()
        if pause_s > 0:
            await asyncio.sleep(pause_s)


def pool_check(pool: Any, timeout_s: float = 2.0) -> Check:
    """A check that the database answers `SELECT 1` through `pool` within `timeout_s`."""

    async def check() -> bool:
        async with asyncio.timeout(timeout_s), pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        return True

    return check
