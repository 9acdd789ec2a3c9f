"""portal-actions' composition root: settings + parts -> the event consumer, the admin gRPC API, health.

`serve` runs it with the real parts (PostgreSQL, NATS JetStream); `compose` takes the parts factory as
an argument so a test can assemble the service around fakes of its own ports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health_pb2_grpc
from prometheus_client import CollectorRegistry
from scimsuite.console.v1 import console_pb2, console_pb2_grpc
from scimsuite.portal.v1 import portal_pb2, portal_pb2_grpc
from suite_common.admin_credential import AdminCredentialCheck
from suite_common.db_statements import statement_counter
from suite_common.health import Check, DependencyHealth, pool_check
from suite_common.metrics import GrpcServerMetrics, MetricsServer, listen_host, new_registry, sample_every
from suite_common.migrations import migrate_database
from suite_common.nats_connect import connect_forever
from suite_common.pg import create_pool
from suite_common.service import Runtime, serving
from suite_common.streams import EventStreams

from portal_actions.adapters.nats.console_bus import ConsoleBus
from portal_actions.adapters.nats.consumer import EventConsumer
from portal_actions.adapters.nats.dead_letters import DeadLetterQueue
from portal_actions.config import Settings
from portal_actions.domain.events import DirectoryEvent
from portal_actions.entrypoints.grpc_console import ConsolePortalServicer
from portal_actions.entrypoints.grpc_safeguards import SafeguardsServicer
from portal_actions.metrics import PortalMetrics
from portal_actions.service_layer.admin import PortalAdmin
from portal_actions.service_layer.configuration_reads import CachedConfiguration
from portal_actions.service_layer.consume import EventHandlers
from portal_actions.service_layer.safeguards import Safeguards

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
ADMIN_SERVICE = portal_pb2.DESCRIPTOR.services_by_name["PortalAdmin"].full_name
CONSOLE_SERVICE = console_pb2.DESCRIPTOR.services_by_name["ConsolePortal"].full_name


async def migrate(database_url: str) -> list[str]:
    return await migrate_database(database_url, MIGRATIONS, "portal")


@dataclass(frozen=True)
class PortalParts:
    """What the service is built from: the admin use cases, the event handlers, what readiness needs."""

    admin: PortalAdmin
    handlers: EventHandlers
    safeguards: Safeguards
    checks: Mapping[str, Check] = field(default_factory=dict)
    # The admin console's extra reads (ConsolePortal); None (fakes) leaves that service out.
    console_pool: asyncpg.Pool | None = None
    console_bus: ConsoleBus | None = None


@dataclass
class PortalActions:
    port: int
    registry: CollectorRegistry
    metrics: PortalMetrics
    health: DependencyHealth


PartsFactory = Callable[[Runtime, Settings, PortalMetrics], Awaitable[PortalParts]]
# Starts delivering events to the handlers; returns a readiness check of the event source, or None when
# the service was stopped before the source could be reached.
EventsFactory = Callable[[Runtime, Settings, PortalParts, PortalMetrics], Awaitable[Check | None]]


async def postgres_parts(runtime: Runtime, s: Settings, metrics: PortalMetrics) -> PortalParts:
    statements = statement_counter(metrics.registry, "portal-actions") if s.db_statement_metrics else None
    pool = await create_pool(
        s.database_url, min_size=s.db_pool_min, max_size=s.db_pool_max, statements=statements
    )
    runtime.on_close(pool.close)
    config = CachedConfiguration(s.database_url)
    runtime.spawn(config.run(), shutdown=config.shutdown)
    safeguards = Safeguards(pool, s.guard_defaults)

    async def sample_held() -> None:
        await safeguards.sample_held(metrics)

    runtime.spawn(sample_every(5.0, sample_held, runtime.stop))
    return PortalParts(
        admin=PortalAdmin(pool),
        handlers=EventHandlers(
            pool, metrics, guard_defaults=s.guard_defaults, config=config, log_every=s.log_success_every
        ),
        safeguards=safeguards,
        checks={"database": pool_check(pool)},
        console_pool=pool,
        console_bus=ConsoleBus(s.stream_name, s.consumer_name),
    )


async def jetstream_events(
    runtime: Runtime, s: Settings, parts: PortalParts, metrics: PortalMetrics
) -> Check | None:
    """Connect to NATS (retrying until stopped) and run the JetStream consumer until the service closes."""
    nc = await connect_forever(s.nats_url, runtime.stop, "portal-actions")
    if nc is None:
        return None

    async def drain_nats() -> None:
        try:
            await asyncio.wait_for(nc.drain(), s.shutdown_grace_s)
        except Exception:
            await nc.close()

    runtime.on_close(drain_nats)
    if parts.console_bus is not None:
        parts.console_bus.nc = nc
    names = EventStreams(s.stream_name, s.events_subject_prefix, s.stream_replicas)
    consumer = EventConsumer(
        nc,
        names=names,
        durable=s.consumer_name,
        handler=parts.handlers.apply,
        dead_letter=DeadLetterQueue(nc, names, parts.handlers.dead_letter),
        batch=s.fetch_batch,
        max_deliveries=s.max_deliveries,
        ack_wait_s=s.ack_wait_s,
        concurrency=max(s.db_pool_max - 1, 1),
        order_key=DirectoryEvent.order_key,
        batch_handler=parts.handlers.apply_batch,
    )
    runtime.spawn(consumer.run(), shutdown=consumer.shutdown)
    js = nc.jetstream()

    async def sample_lag() -> None:
        await metrics.sample_lag(js, s.stream_name, s.consumer_name)

    runtime.spawn(sample_every(5.0, sample_lag, runtime.stop))

    async def connected() -> bool:
        return bool(nc.is_connected)

    return connected


async def compose(
    runtime: Runtime,
    s: Settings,
    parts: PartsFactory = postgres_parts,
    events: EventsFactory = jetstream_events,
) -> PortalActions:
    registry = new_registry()
    metrics = PortalMetrics(registry)
    metrics_server = MetricsServer(registry, listen_host(s.grpc_listen), s.metrics_port)
    await metrics_server.start()
    runtime.on_close(metrics_server.close)  # last to close: the final counts can be scraped while draining
    p = await parts(runtime, s, metrics)
    server = grpc.aio.server(
        interceptors=[
            GrpcServerMetrics(registry, s.log_success_every),
            AdminCredentialCheck(s.admin_token, [ADMIN_SERVICE, CONSOLE_SERVICE]),
        ]
    )
    health = DependencyHealth(p.checks, [ADMIN_SERVICE])
    portal_pb2_grpc.add_PortalAdminServicer_to_server(SafeguardsServicer(p.admin, p.safeguards), server)
    if p.console_pool is not None and p.console_bus is not None:
        console_pb2_grpc.add_ConsolePortalServicer_to_server(
            ConsolePortalServicer(p.console_pool, p.console_bus), server
        )
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
    port = server.add_insecure_port(s.grpc_listen)
    # The admin API answers while the event source is still being reached.
    runtime.on_close(lambda: server.stop(s.shutdown_grace_s))
    await server.start()
    source_check = await events(runtime, s, p, metrics)
    if source_check is not None:
        health.checks["nats"] = source_check
        runtime.spawn(health.run(runtime.stop))
        runtime.on_close(health.closing)  # first on shutdown: readiness drops before anything stops
    log.info("portal-actions listening", extra={"listen": s.grpc_listen, "port": port})
    return PortalActions(port, registry, metrics, health)


serve = serving("portal-actions", compose)
