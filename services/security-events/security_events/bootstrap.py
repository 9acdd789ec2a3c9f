"""security-events' composition root: settings -> the consumer, the push deliverer, the gRPC APIs, health.

On suite_common's service runtime (as the directory and portal-actions): parts open in order and close in
reverse, so on shutdown readiness drops first, then the consumer and the deliverer finish their batch in
hand, the listeners stop, and the pool and the metrics endpoint close last.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
from scimsuite.events_out.v1 import events_out_pb2
from suite_common.admin_credential import AdminCredentialCheck
from suite_common.db_statements import statement_counter
from suite_common.health import DependencyHealth, pool_check
from suite_common.metrics import GrpcServerMetrics, MetricsServer, listen_host, new_registry, sample_every
from suite_common.migrations import migrate_database
from suite_common.nats_connect import connect_forever
from suite_common.pg import create_pool
from suite_common.pg_listen import listen_until
from suite_common.service import Runtime, serving
from suite_common.streams import EventStreams

from security_events.adapters.nats.consumer import EventConsumer
from security_events.adapters.postgres import consumption, sets
from security_events.adapters.postgres.keys import KeyStore
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
from security_events.service_layer.receivers_cache import ReceiversCache

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
NAMESPACE = "security_events"
NOTIFY_CHANNEL = "security_events_sets"  # the trigger of migration 0001 notifies on committed SETs
ADMIN_SERVICE = events_out_pb2.DESCRIPTOR.services_by_name["SecurityEventsAdmin"].full_name
TRANSMITTER_SERVICE = events_out_pb2.DESCRIPTOR.services_by_name["SetTransmitter"].full_name


async def migrate(database_url: str) -> list[str]:
    return await migrate_database(database_url, MIGRATIONS, NAMESPACE)


async def _sample_lag(pool: asyncpg.Pool, metrics: SetMetrics) -> None:
    async with pool.acquire() as conn:
        for row in await sets.oldest_pending_ages(conn):
            metrics.lag.labels(str(row["receiver_id"])).set(float(row["lag_s"]))


async def _prune(pool: asyncpg.Pool, retention_s: float) -> None:
    async with pool.acquire() as conn:
        sets_gone = await sets.prune(conn, retention_s)
        ids_gone = await consumption.prune(conn, retention_s)
    if sets_gone or ids_gone:
        log.info("pruned", extra={"sets": sets_gone, "consumed_events": ids_gone})


async def compose(runtime: Runtime, s: Settings) -> None:
    sealer = Sealer(s.key_encryption_secret)
    registry = new_registry()
    metrics = SetMetrics(registry)
    metrics_server = MetricsServer(registry, listen_host(s.grpc_listen), s.metrics_port)
    await metrics_server.start()
    runtime.on_close(metrics_server.close)  # last to close: the final counts can be scraped while draining
    statements = statement_counter(registry, "security-events") if s.db_statement_metrics else None
    pool = await create_pool(
        s.database_url, min_size=s.db_pool_min, max_size=s.db_pool_max, statements=statements
    )
    runtime.on_close(pool.close)

    keys = KeyStore(sealer)
    receivers = ReceiversCache(s.database_url)
    runtime.spawn(receivers.run(), shutdown=receivers.shutdown)
    admin = StreamAdmin(
        pool,
        keys,
        sealer,
        allow_insecure=s.allow_insecure_receivers,
        default_overlap_s=s.key_overlap_s,
        on_change=receivers.invalidate,
    )
    poller = Poller(pool, metrics, redeliver_s=s.poll_redeliver_s, max_wait_s=s.poll_max_wait_s)
    health = DependencyHealth({"database": pool_check(pool)}, [ADMIN_SERVICE, TRANSMITTER_SERVICE])
    servers = GrpcServers(
        [
            GrpcServerMetrics(registry, s.log_success_every),
            AdminCredentialCheck(s.admin_token, [ADMIN_SERVICE]),
        ],
        SecurityEventsAdminServicer(admin),
        SetTransmitterServicer(admin, poller),
        health.servicer,
        separate_admin=bool(s.admin_listen),
    )
    servers.bind(s.grpc_listen, s.admin_listen)
    runtime.on_close(lambda: servers.stop(s.shutdown_grace_s))
    await servers.start()

    policy = PushPolicy(
        s.push_timeout_s, s.push_concurrency, s.retry_base_s, s.retry_max_s, s.dead_letter_after_s
    )
    # Delivery progress (leases, delivered/failed marks) commits without waiting for its WAL flush: a mark
    # lost in a PostgreSQL crash only sends that SET again, which the receiver drops by `txn` (RFC 9967
    # §2.2). SETs and consumed events, the facts, are written on the durable pool above.
    delivery_pool = await create_pool(
        s.database_url,
        min_size=1,
        max_size=s.db_pool_max,
        statements=statements,
        server_settings={"synchronous_commit": "off"},
    )
    runtime.on_close(delivery_pool.close)
    deliverer = PushDeliverer(delivery_pool, sealer, policy, metrics)
    runtime.spawn(deliverer.run(), shutdown=deliverer.shutdown)

    def new_sets() -> None:
        deliverer.wake()
        poller.notify()

    # Deliverers and long polls wake on committed SETs; without the LISTEN they fall back to their timers.
    runtime.spawn(
        listen_until(
            s.database_url, NOTIFY_CHANNEL, lambda _payload: new_sets(), runtime.stop, on_up=new_sets
        )
    )

    async def sample_lag() -> None:
        await _sample_lag(pool, metrics)

    async def prune() -> None:
        await _prune(pool, s.retention_s)

    runtime.spawn(sample_every(5.0, sample_lag, runtime.stop))
    runtime.spawn(sample_every(300.0, prune, runtime.stop))

    nc = await connect_forever(s.nats_url, runtime.stop, "security-events")
    if nc is None:
        return

    async def drain_nats() -> None:
        try:
            await asyncio.wait_for(nc.drain(), s.shutdown_grace_s)
        except Exception:
            await nc.close()

    runtime.on_close(drain_nats)
    consumer = EventConsumer(
        nc,
        names=EventStreams(s.stream_name, s.events_subject_prefix, s.stream_replicas),
        durable=s.consumer_name,
        handler=SetBuilder(pool, keys, s.public_base_url, metrics, receivers).apply_group,
        batch=s.fetch_batch,
        max_deliveries=s.max_deliveries,
        ack_wait_s=s.ack_wait_s,
        groups=max(s.db_pool_max // 2, 1),
    )
    runtime.spawn(consumer.run(), shutdown=consumer.shutdown)

    async def connected() -> bool:
        return bool(nc.is_connected)

    health.checks["nats"] = connected
    runtime.spawn(health.run(runtime.stop))
    runtime.on_close(health.closing)  # first on shutdown: readiness drops before anything stops
    log.info("security-events listening", extra={"listen": s.grpc_listen, "admin_listen": s.admin_listen})


serve = serving("security-events", compose)
