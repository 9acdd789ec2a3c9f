"""Builds the aiohttp application; resources open and close in one cleanup context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from suite_common.health import DependencyHealth
from suite_common.web import METRICS, web_app

from scim_edge.adapters.directory_client import DirectoryClient
from scim_edge.config import Settings
from scim_edge.http import observability, routes
from scim_edge.http.context import DIRECTORY, SETTINGS
from scim_edge.http.middleware import scim_errors
from scim_edge.http.rate_limit import TokenBuckets, rate_limit_middleware
from scim_edge.http.responses import scim_json


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
        middlewares=[observability.recognise_idp, scim_errors, limiter],
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
    app.router.add_route("*", "/scim/v2/{connection_id}", routes.dispatch)
    app.router.add_route("*", "/scim/v2/{connection_id}/{tail:.*}", routes.dispatch)
    app.router.add_route("*", "/{tail:.*}", routes.not_found)
    return app
