"""gRPC health (grpc.health.v1) that reflects the database, re-checked every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from grpc_health.v1 import health, health_pb2

log = logging.getLogger(__name__)


class HealthReporter:
    def __init__(self, pool: asyncpg.Pool, services: list[str], interval_s: float = 2.0) -> None:
        self.servicer = health.aio.HealthServicer()
        self.pool = pool
        self.services = ["", *services]
        self.interval_s = interval_s
        self._closing = False

    async def _set(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in self.services:
            await self.servicer.set(name, status)

    async def check_once(self) -> bool:
        try:
            async with asyncio.timeout(2.0), self.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            log.warning("database health check failed", extra={"error": str(exc)})
            return False

    async def run(self) -> None:
        while not self._closing:
            await self._set(await self.check_once())
            await asyncio.sleep(self.interval_s)

    async def closing(self) -> None:
        """Readiness drops first on shutdown, so load balancers stop sending new calls."""
        self._closing = True
        with contextlib.suppress(Exception):
            await self._set(False)
