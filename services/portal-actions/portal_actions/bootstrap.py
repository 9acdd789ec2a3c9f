"""Wires portal-actions: pool, migrations, NATS, the consumer, the admin gRPC API and health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health_pb2_grpc
from scimsuite.console.v1 import console_pb2_grpc
from scimsuite.portal.v1 import portal_pb2_grpc
from suite_common.health import LIVENESS, NOT_SERVING, SERVING, HealthServicer
from suite_common.metrics import GrpcServerMetrics, MetricsServer, listen_host, new_registry, sample_every
from suite_common.migrations import apply_migrations
from suite_common.nats_connect import connect_forever
from suite_common.pg import create_pool
from suite_common.streams import EventStreams

from portal_actions.adapters.nats.consumer import EventConsumer
from portal_actions.config import Settings
from portal_actions.domain.events import DirectoryEvent
from portal_actions.entrypoints.grpc_admin import PortalAdminServicer
from portal_actions.entrypoints.grpc_console import ConsolePortalServicer, EventBus
from portal_actions.metrics import PortalMetrics
from portal_actions.service_layer.admin import PortalAdmin
from portal_actions.service_layer.consume import EventHandlers

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await apply_migrations(conn, MIGRATIONS, "portal")
    finally:
        await conn.close()


class PortalActionsApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = asyncio.Event()
        self.bound_port = 0
        self.consumer: EventConsumer | None = None
        self.registry = new_registry()
        self.metrics = PortalMetrics(self.registry)

    async def shutdown(self) -> None:
        self._stop.set()

    async def _health_loop(self, servicer: HealthServicer, pool: asyncpg.Pool, nc_ok: list[bool]) -> None:
        await servicer.set(LIVENESS, SERVING)
        while not self._stop.is_set():
            try:
                async with asyncio.timeout(2.0), pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
                db_ok = True
            except Exception:
                db_ok = False
            serving = db_ok and nc_ok[0]
            status = SERVING if serving else NOT_SERVING
            await servicer.set("", status)
            await servicer.set("scimsuite.portal.v1.PortalAdmin", status)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 2.0)

    async def run(self, ready: asyncio.Event | None = None) -> None:
        s = self.settings
        pool = await create_pool(s.database_url, min_size=s.db_pool_min, max_size=s.db_pool_max)
        server = grpc.aio.server(interceptors=[GrpcServerMetrics(self.registry)])
        health_servicer = HealthServicer()
        portal_pb2_grpc.add_PortalAdminServicer_to_server(
            PortalAdminServicer(PortalAdmin(pool), s.admin_token), server
        )
        bus = EventBus(s.stream_name, s.consumer_name)
        console_pb2_grpc.add_ConsolePortalServicer_to_server(
            ConsolePortalServicer(pool, s.admin_token, bus), server
        )
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        self.bound_port = server.add_insecure_port(s.grpc_listen)
        metrics_server = MetricsServer(self.registry, listen_host(s.grpc_listen), s.metrics_port)
        await metrics_server.start()
        await server.start()
        nc = await connect_forever(s.nats_url, self._stop, "portal-actions")
        if nc is None:
            await server.stop(0)
            await pool.close()
            await metrics_server.close()
            return
        bus.nc = nc
        names = EventStreams(s.stream_name, s.events_subject_prefix)
        handlers = EventHandlers(pool, nc, names, self.metrics)
        self.consumer = EventConsumer(
            nc,
            names=names,
            durable=s.consumer_name,
            handler=handlers.apply,
            dead_letter=handlers.dead_letter,
            batch=s.fetch_batch,
            max_deliveries=s.max_deliveries,
            ack_wait_s=s.ack_wait_s,
            concurrency=max(s.db_pool_max - 1, 1),
            order_key=DirectoryEvent.order_key,
        )
        consumer_task = asyncio.create_task(self.consumer.run())
        js = nc.jetstream()

        async def sample_lag() -> None:
            await self.metrics.sample_lag(js, s.stream_name, s.consumer_name)

        lag_task = asyncio.create_task(sample_every(5.0, sample_lag, self._stop))
        nc_ok = [True]
        health_task = asyncio.create_task(self._health_loop(health_servicer, pool, nc_ok))
        log.info("portal-actions running", extra={"listen": s.grpc_listen})
        if ready is not None:
            ready.set()
        try:
            while not self._stop.is_set():
                nc_ok[0] = nc.is_connected
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
        finally:
            await health_servicer.enter_graceful_shutdown()
            await self.consumer.shutdown()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(consumer_task, s.shutdown_grace_s)
            health_task.cancel()
            await server.stop(s.shutdown_grace_s)
            try:
                await asyncio.wait_for(nc.drain(), s.shutdown_grace_s)
            except Exception:
                await nc.close()
            await lag_task
            await pool.close()
            await metrics_server.close()
            log.info("portal-actions stopped")
