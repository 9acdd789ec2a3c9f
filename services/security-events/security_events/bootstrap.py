"""Wires security-events: pool, migrations, NATS consumer, push deliverer, gRPC APIs, metrics, health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import asyncpg
from suite_common.health import LIVENESS, NOT_SERVING, SERVING, HealthServicer
from suite_common.metrics import GrpcServerMetrics, MetricsServer, listen_host, new_registry, sample_every
from suite_common.migrations import apply_migrations
from suite_common.nats_connect import connect_forever
from suite_common.pg import create_pool
from suite_common.streams import EventStreams

from security_events.adapters.nats.consumer import EventConsumer
from security_events.adapters.postgres import consumption, sets
from security_events.adapters.postgres.keys import KeyStore
from security_events.adapters.postgres.notify import SetsListener
from security_events.config import Settings
from security_events.domain.key_encryption import Sealer
from security_events.entrypoints.grpc_admin import SecurityEventsAdminServicer
from security_events.entrypoints.grpc_servers import GrpcServers
from security_events.entrypoints.grpc_transmitter import SetTransmitterServicer
from security_events.metrics import SetMetrics
from security_events.service_layer.admin import StreamAdmin
from security_events.service_layer.build import SetBuilder
from security_events.service_layer.poll import Poller
from security_events.service_layer.push import PushDeliverer, PushPolicy

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
NAMESPACE = "security_events"
SERVICES = ("scimsuite.events_out.v1.SecurityEventsAdmin", "scimsuite.events_out.v1.SetTransmitter")


async def migrate(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await apply_migrations(conn, MIGRATIONS, NAMESPACE)
    finally:
        await conn.close()


class SecurityEventsApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = asyncio.Event()
        self.registry = new_registry()
        self.metrics = SetMetrics(self.registry)

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
            status = SERVING if db_ok and nc_ok[0] else NOT_SERVING
            for name in ("", *SERVICES):
                await servicer.set(name, status)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 2.0)

    async def _sample_lag(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            for row in await sets.oldest_pending_ages(conn):
                self.metrics.lag.labels(str(row["receiver_id"])).set(float(row["lag_s"]))

    async def _prune(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            sets_gone = await sets.prune(conn, self.settings.retention_s)
            ids_gone = await consumption.prune(conn, self.settings.retention_s)
        if sets_gone or ids_gone:
            log.info("pruned", extra={"sets": sets_gone, "consumed_events": ids_gone})

    async def run(self) -> None:
        s = self.settings
        sealer = Sealer(s.key_encryption_secret)
        pool = await create_pool(s.database_url, min_size=s.db_pool_min, max_size=s.db_pool_max)
        keys = KeyStore(sealer)
        admin = StreamAdmin(
            pool, keys, sealer, allow_insecure=s.allow_insecure_receivers, default_overlap_s=s.key_overlap_s
        )
        poller = Poller(pool, self.metrics, redeliver_s=s.poll_redeliver_s, max_wait_s=s.poll_max_wait_s)
        policy = PushPolicy(
            s.push_timeout_s, s.push_concurrency, s.retry_base_s, s.retry_max_s, s.dead_letter_after_s
        )
        deliverer = PushDeliverer(pool, sealer, policy, self.metrics)

        def new_sets() -> None:
            deliverer.wake()
            poller.notify()

        listener = SetsListener(s.database_url, new_sets)
        health = HealthServicer()
        servers = GrpcServers(
            [GrpcServerMetrics(self.registry)],
            SecurityEventsAdminServicer(admin, s.admin_token),
            SetTransmitterServicer(admin, poller),
            health,
            separate_admin=bool(s.admin_listen),
        )
        servers.bind(s.grpc_listen, s.admin_listen)
        metrics_server = MetricsServer(self.registry, listen_host(s.grpc_listen), s.metrics_port)
        await metrics_server.start()
        await servers.start()
        nc = await connect_forever(s.nats_url, self._stop, "security-events")
        if nc is None:
            await servers.stop(0)
            await pool.close()
            await metrics_server.close()
            return
        builder = SetBuilder(pool, keys, s.public_base_url, self.metrics)
        consumer = EventConsumer(
            nc,
            names=EventStreams(s.stream_name, s.events_subject_prefix),
            durable=s.consumer_name,
            handler=builder.apply_group,
            batch=s.fetch_batch,
            max_deliveries=s.max_deliveries,
            ack_wait_s=s.ack_wait_s,
            groups=max(s.db_pool_max // 2, 1),
        )
        tasks = [
            asyncio.create_task(consumer.run()),
            asyncio.create_task(deliverer.run()),
            asyncio.create_task(listener.run()),
        ]

        async def sample_lag() -> None:
            await self._sample_lag(pool)

        async def prune() -> None:
            await self._prune(pool)

        lag_task = asyncio.create_task(sample_every(5.0, sample_lag, self._stop))
        prune_task = asyncio.create_task(sample_every(300.0, prune, self._stop))
        nc_ok = [True]
        health_task = asyncio.create_task(self._health_loop(health, pool, nc_ok))
        log.info("security-events running", extra={"listen": s.grpc_listen})
        try:
            while not self._stop.is_set():
                nc_ok[0] = nc.is_connected
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
        finally:
            await health.enter_graceful_shutdown()
            for part in (consumer, deliverer, listener):
                await part.shutdown()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.gather(*tasks), s.shutdown_grace_s)
            health_task.cancel()
            await servers.stop(s.shutdown_grace_s)
            try:
                await asyncio.wait_for(nc.drain(), s.shutdown_grace_s)
            except Exception:
                await nc.close()
            await lag_task
            await prune_task
            await pool.close()
            await metrics_server.close()
            log.info("security-events stopped")
