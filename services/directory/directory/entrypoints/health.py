"""gRPC health (grpc.health.v1) that reflects the database, re-checked every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer  # health.aio, which the typing stubs do not declare
from suite_common.health import LIVENESS

log = logging.getLogger(__name__)


class HealthReporter:
    def __init__(self, pool: asyncpg.Pool, services: list[str], interval_s: float = 2.0) -> None:
        self.servicer = HealthServicer()
        self.pool = pool
        self.services = ["", *services]
        self.interval_s = interval_s
        self._closing = False

    async def _set(self, serving: bool) -> None:
        # A check that was in flight when shutdown began must not turn readiness back on.
        serving = serving and not self._closing
        status = health_pb2.HealthCheckResponse.NOT_SERVING
        if serving:
            status = health_pb2.HealthCheckResponse.SERVING
        for name in self.services:
            await self.servicer.set(name, status)

    async def check_once(self) -> bool:
        try:
            async with asyncio.timeout(2.0), self.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            return True
        except Exception as exc:  # any failure means "not ready"
            log.warning("database health check failed", extra={"error": str(exc)})
            return False

    async def run(self) -> None:
        await self.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        while not self._closing:
            await self._set(await self.check_once())
            await asyncio.sleep(self.interval_s)

    async def closing(self) -> None:
        """Readiness drops first on shutdown, so load balancers stop sending new calls."""
        self._closing = True
        with contextlib.suppress(Exception):
            await self._set(False)
