"""Builds the aiohttp application; resources open and close in one cleanup context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from suite_common.health import DependencyHealth
from suite_common.web import METRICS, web_app

from scim_edge.adapters.directory_client import DirectoryClient
from scim_edge.adapters.security_events_client import SecurityEventsClient
from scim_edge.config import Settings
from scim_edge.http import observability, routes, security_events
from scim_edge.http.context import DIRECTORY, RECORDER, SETTINGS
from scim_edge.http.middleware import scim_errors
from scim_edge.http.rate_limit import TokenBuckets, rate_limit_middleware
from scim_edge.http.request_log import record_requests
from scim_edge.http.responses import scim_json
from scim_edge.provisioning_log.recorder import RecorderMetrics, RequestLogRecorder


def _scim_json(body: Any, status: int) -> web.Response:
    return scim_json(body, status=status)


def build_app(settings: Settings) -> web.Application:
    # client_max_size is a backstop; read_json enforces the limit with a SCIM 413 before buffering.
    # The rate limit runs inside scim_errors, before a request body is read or the directory is called.
    limiter = rate_limit_middleware(TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst))

    async def directory_serving() -> bool:
        return await app[DIRECTORY].serving()

    app = web_app(
        health=DependencyHealth({"directory": directory_serving}),
        route_template=observability.route_template,
        # The provisioning log sits outside the SCIM error middleware, so it sees error answers too.
        middlewares=[record_requests, observability.recognise_idp, scim_errors, limiter],
        log_fields=observability.log_fields,
        json_response=_scim_json,
        client_max_size=settings.max_body_bytes + 1,
        access_log_every=settings.access_log_every,
    )
    app[SETTINGS] = settings
    app[observability.IDP_METRICS] = observability.IdpMetrics(app[METRICS].registry)

    async def directory_ctx(app: web.Application) -> AsyncIterator[None]:
        client = DirectoryClient(settings.directory_addr, settings.rpc_timeout_s)
        app[DIRECTORY] = client
        yield
        await client.close()

    app.cleanup_ctx.append(directory_ctx)

    async def request_log_ctx(app: web.Application) -> AsyncIterator[None]:
        if not settings.request_log_enabled:
            yield
            return
        recorder = RequestLogRecorder(
            app[DIRECTORY].channel,
            RecorderMetrics(app[METRICS].registry),
            capacity=settings.request_log_queue,
            batch_size=settings.request_log_batch,
            body_max_bytes=settings.request_log_body_max_bytes,
            parse_limit=settings.request_log_parse_limit,
            rpc_timeout_s=5.0,
            linger_s=settings.request_log_linger_s,
            max_queued_bytes=settings.request_log_queue_bytes,
        )
        app[RECORDER] = recorder
        task = asyncio.create_task(recorder.run())
        yield
        # Cleanup runs in reverse: the log is flushed before the directory channel closes.
        await recorder.stop(task, settings.shutdown_grace_s)

    app.cleanup_ctx.append(request_log_ctx)

    async def security_events_ctx(app: web.Application) -> AsyncIterator[None]:
        if not settings.security_events_addr:
            yield
            return
        # A long poll waits up to the service's bound (20 s by default); the RPC deadline leaves room.
        client = SecurityEventsClient(settings.security_events_addr, settings.rpc_timeout_s, 60.0)
        app[security_events.SECURITY_EVENTS] = client
        yield
        await client.close()

    app.cleanup_ctx.append(security_events_ctx)
    app.router.add_route("*", "/scim/v2/{connection_id}", routes.dispatch)
    app.router.add_route("*", "/scim/v2/{connection_id}/{tail:.*}", routes.dispatch)
    app.router.add_get("/scim-events/streams/{stream_id}/jwks.json", security_events.jwks)
    app.router.add_post("/scim-events/poll", security_events.poll)
    app.router.add_route("*", "/{tail:.*}", routes.not_found)
    return app
