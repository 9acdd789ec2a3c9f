"""The directory's composition root: settings + parts -> gRPC servers, health, outbox relay, metrics.

`serve` runs it with the real parts (PostgreSQL, NATS); `compose` takes the parts as arguments, so a test
can assemble the directory around fakes of its own ports (tests/unit/test_composed_directory.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from grpc_health.v1 import health_pb2_grpc
from prometheus_client import CollectorRegistry
from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from scimsuite.console.v1 import console_pb2, console_pb2_grpc
from scimsuite.directory.v1 import directory_pb2, directory_pb2_grpc
from suite_common.admin_credential import AdminCredentialCheck
from suite_common.db_statements import statement_counter
from suite_common.health import Check, DependencyHealth, pool_check
from suite_common.metrics import GrpcServerMetrics, MetricsServer, listen_host, new_registry, sample_every
from suite_common.migrations import migrate_database
from suite_common.pg import create_pool
from suite_common.service import Runtime, serving

from directory.adapters.postgres.secrets import shared_secret
from directory.adapters.postgres.tenants import pooled_idp_recorder, pooled_token_lookup
from directory.adapters.postgres.unit_of_work import PostgresUnitsOfWork
from directory.config import Settings
from directory.domain.cursors import CursorCodec
from directory.entrypoints.grpc_admin import AdminServicer
from directory.entrypoints.grpc_console import ConsoleDirectoryServicer, RequestLogIngestServicer
from directory.entrypoints.grpc_directory import DirectoryServicer
from directory.entrypoints.grpc_servers import GrpcServers
from directory.relay.metrics import OutboxMetrics
from directory.relay.outbox_relay import OutboxRelay
from directory.service_layer.admin import AdminService
from directory.service_layer.authentication import Authenticator
from directory.service_layer.credentials_cache import CredentialsCache
from directory.service_layer.cursor_listing import CursorLister
from directory.service_layer.request_log import RetentionPruner
from directory.service_layer.resources import ResourceService

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
DATA_SERVICE = directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name
ADMIN_SERVICE = admin_pb2.DESCRIPTOR.services_by_name["DirectoryAdmin"].full_name
CONSOLE_SERVICE = console_pb2.DESCRIPTOR.services_by_name["ConsoleDirectory"].full_name


async def migrate(database_url: str) -> list[str]:
    return await migrate_database(database_url, MIGRATIONS, "directory")


async def cursor_lister(pool: asyncpg.Pool, settings: Settings) -> CursorLister | None:
    """RFC 9865 cursor paging, sealed with CURSOR_SECRET or else the database's shared secret, so that
    any replica opens a cursor another issued; None when CURSOR_TIMEOUT_SECONDS turns cursors off."""
    if settings.cursor_timeout_s <= 0:
        return None
    secret = settings.cursor_secret.encode()
    if not secret:
        async with pool.acquire() as conn:
            secret = await shared_secret(conn, "cursor")
    return CursorLister(pool, CursorCodec(secret, settings.cursor_timeout_s))


@dataclass(frozen=True)
class DirectoryParts:
    """What the servicers are built from: the use cases, and what readiness depends on."""

    resources: ResourceService
    authenticator: Authenticator
    admin: AdminService
    lister: CursorLister | None = None
    checks: Mapping[str, Check] = field(default_factory=dict)
    # The provisioning log and the console's reads (RequestLogIngest, ConsoleDirectory) work on the pool
    # directly; None (fakes) leaves those two services out.
    console_pool: asyncpg.Pool | None = None


@dataclass
class Directory:
    """The composed directory: its bound ports and its metrics registry."""

    port: int
    admin_port: int
    registry: CollectorRegistry
    health: DependencyHealth


PartsFactory = Callable[[Runtime, Settings, CollectorRegistry], Awaitable[DirectoryParts]]


async def postgres_parts(runtime: Runtime, s: Settings, registry: CollectorRegistry) -> DirectoryParts:
    """The real parts: one pool, the LISTENing credentials cache, the outbox relay to NATS."""
    statements = statement_counter(registry, "directory") if s.db_statement_metrics else None
    pool = await create_pool(
        s.database_url, min_size=s.db_pool_min, max_size=s.db_pool_max, statements=statements
    )
    runtime.on_close(pool.close)
    credentials = CredentialsCache(s.database_url, ttl_s=s.credentials_cache_ttl_s)
    runtime.spawn(credentials.run(), shutdown=credentials.shutdown)
    relay = OutboxRelay(
        pool,
        s.database_url,
        s.nats_url,
        stream=s.stream_name,
        duplicate_window_s=s.stream_duplicate_window_s,
        subject_prefix=s.events_subject_prefix,
        stream_replicas=s.stream_replicas,
        batch_size=s.relay_batch_size,
        poll_interval_s=s.relay_poll_interval_s,
    )
    runtime.spawn(relay.run(), shutdown=relay.shutdown)
    outbox_metrics = OutboxMetrics(registry, pool, relay)
    runtime.spawn(sample_every(5.0, outbox_metrics.sample, runtime.stop))
    pruner = RetentionPruner(
        pool, s.request_log_retention_days, s.request_log_max_rows, s.request_log_prune_s
    )
    runtime.spawn(pruner.run(), shutdown=pruner.shutdown)
    return DirectoryParts(
        resources=ResourceService(pool, write_members_inline_max=s.write_members_inline_max),
        authenticator=Authenticator(pooled_token_lookup(pool), credentials, pooled_idp_recorder(pool)),
        admin=AdminService(PostgresUnitsOfWork(pool), s.public_base_url, credentials.invalidate),
        lister=await cursor_lister(pool, s),
        checks={"database": pool_check(pool)},
        console_pool=pool,
    )


async def compose(
    runtime: Runtime, s: Settings, parts: PartsFactory = postgres_parts, *, drain_pause_s: float = 1.0
) -> Directory:
    registry = new_registry()
    metrics_server = MetricsServer(registry, listen_host(s.grpc_listen), s.metrics_port)
    await metrics_server.start()
    runtime.on_close(metrics_server.close)  # last to close: the final counts can be scraped while draining
    p = await parts(runtime, s, registry)
    servers = GrpcServers(
        [GrpcServerMetrics(registry, s.log_success_every)],
        separate_admin=bool(s.admin_listen),
        admin_interceptors=[AdminCredentialCheck(s.admin_token, [ADMIN_SERVICE, CONSOLE_SERVICE])],
    )
    health = DependencyHealth(p.checks, [DATA_SERVICE, ADMIN_SERVICE])
    directory_pb2_grpc.add_DirectoryServiceServicer_to_server(
        DirectoryServicer(p.authenticator, p.resources, p.lister), servers.data
    )
    admin_pb2_grpc.add_DirectoryAdminServicer_to_server(AdminServicer(p.admin), servers.admin)
    if p.console_pool is not None:
        # The edge writes the log on the data port (it holds no admin credential); admins read it on the
        # admin port, behind the same credential check as DirectoryAdmin.
        console_pb2_grpc.add_RequestLogIngestServicer_to_server(
            RequestLogIngestServicer(p.console_pool), servers.data
        )
        console_pb2_grpc.add_ConsoleDirectoryServicer_to_server(
            ConsoleDirectoryServicer(p.console_pool), servers.admin
        )
    for server in servers.all:
        health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
    port, admin_port = servers.bind(s.grpc_listen, s.admin_listen)
    # In-flight calls get the grace period to finish; new ones are refused.
    runtime.on_close(lambda: servers.stop(s.shutdown_grace_s))
    await servers.start()
    runtime.spawn(health.run(runtime.stop))
    # First on shutdown: readiness drops, and edges (client-side health checking) stop picking this
    # replica during the pause, so no new call meets a closing server.
    runtime.on_close(lambda: health.closing(drain_pause_s))
    log.info("directory listening", extra={"listen": s.grpc_listen, "port": port, "admin_port": admin_port})
    return Directory(port, admin_port, registry, health)


serve = serving("directory", compose)
