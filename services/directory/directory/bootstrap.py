"""Wires the directory from its settings: pool, migrations, gRPC servicers, health, outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import asyncpg
from grpc_health.v1 import health_pb2_grpc
from scimsuite.admin.v1 import admin_pb2_grpc
from scimsuite.console.v1 import console_pb2_grpc
from scimsuite.directory.v1 import directory_pb2_grpc
from suite_common.metrics import GrpcServerMetrics, MetricsServer, listen_host, new_registry, sample_every
from suite_common.migrations import apply_migrations
from suite_common.pg import create_pool

from directory.adapters.postgres.secrets import shared_secret
from directory.config import Settings
from directory.domain.cursors import CursorCodec
from directory.entrypoints.grpc_admin import AdminServicer
from directory.entrypoints.grpc_console import ConsoleDirectoryServicer, RequestLogIngestServicer
from directory.entrypoints.grpc_directory import DirectoryServicer
from directory.entrypoints.grpc_servers import GrpcServers
from directory.entrypoints.health import HealthReporter
from directory.relay.metrics import OutboxMetrics
from directory.relay.outbox_relay import OutboxRelay
from directory.service_layer.admin import AdminService
from directory.service_layer.credentials_cache import CredentialsCache
from directory.service_layer.cursor_listing import CursorLister
from directory.service_layer.request_log import RetentionPruner
from directory.service_layer.resources import ResourceService

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await apply_migrations(conn, MIGRATIONS, "directory")
    finally:
        await conn.close()


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


class DirectoryApp:
    """The running service; `run()` serves until `shutdown()` (idempotent), then drains."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = asyncio.Event()
        self.bound_port = 0
        self.admin_port = 0
        self.registry = new_registry()

    async def shutdown(self) -> None:
        self._stop.set()

    async def run(self, ready: asyncio.Event | None = None) -> None:
        s = self.settings
        pool = await create_pool(s.database_url, min_size=s.db_pool_min, max_size=s.db_pool_max)
        servers = GrpcServers([GrpcServerMetrics(self.registry)], separate_admin=bool(s.admin_listen))
        health = HealthReporter(
            pool, ["scimsuite.directory.v1.DirectoryService", "scimsuite.admin.v1.DirectoryAdmin"]
        )
        credentials = CredentialsCache(s.database_url, ttl_s=s.credentials_cache_ttl_s)
        directory_pb2_grpc.add_DirectoryServiceServicer_to_server(
            DirectoryServicer(
                pool,
                ResourceService(pool, write_members_inline_max=s.write_members_inline_max),
                await cursor_lister(pool, s),
                credentials,
            ),
            servers.data,
        )
        admin_pb2_grpc.add_DirectoryAdminServicer_to_server(
            AdminServicer(AdminService(pool, s.public_base_url), s.admin_token), servers.admin
        )
        console_pb2_grpc.add_RequestLogIngestServicer_to_server(RequestLogIngestServicer(pool), servers.data)
        console_pb2_grpc.add_ConsoleDirectoryServicer_to_server(
            ConsoleDirectoryServicer(pool, s.admin_token), servers.admin
        )
        for server in servers.all:
            health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
        self.bound_port, self.admin_port = servers.bind(s.grpc_listen, s.admin_listen)
        relay = OutboxRelay(
            pool,
            s.database_url,
            s.nats_url,
            stream=s.stream_name,
            duplicate_window_s=s.stream_duplicate_window_s,
            subject_prefix=s.events_subject_prefix,
            batch_size=s.relay_batch_size,
            poll_interval_s=s.relay_poll_interval_s,
        )
        metrics_server = MetricsServer(self.registry, listen_host(s.grpc_listen), s.metrics_port)
        await metrics_server.start()
        await servers.start()
        health_task = asyncio.create_task(health.run())
        relay_task = asyncio.create_task(relay.run())
        credentials_task = asyncio.create_task(credentials.run())
        pruner = RetentionPruner(
            pool, s.request_log_retention_days, s.request_log_max_rows, s.request_log_prune_s
        )
        pruner_task = asyncio.create_task(pruner.run())
        outbox_metrics = OutboxMetrics(self.registry, pool, relay)
        backlog_task = asyncio.create_task(sample_every(5.0, outbox_metrics.sample, self._stop))
        log.info(
            "directory serving",
            extra={"listen": s.grpc_listen, "port": self.bound_port, "admin_port": self.admin_port},
        )
        if ready is not None:
            ready.set()
        try:
            await self._stop.wait()
        finally:
            await health.closing()
            health_task.cancel()
            await servers.stop(s.shutdown_grace_s)  # in-flight calls finish; new ones are refused
            await relay.shutdown()
            await credentials.shutdown()
            await pruner.shutdown()
            await pruner_task
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(relay_task, s.shutdown_grace_s)
            await backlog_task
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(credentials_task, s.shutdown_grace_s)
            await pool.close()
            await metrics_server.close()
            log.info("directory stopped")
