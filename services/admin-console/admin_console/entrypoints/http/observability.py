"""One server span per console request (gRPC client spans of its calls nest under it: one trace per
console action), request metrics, a JSON log line, and health endpoints."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Histogram
from suite_common import metrics, telemetry

from admin_console.entrypoints.http.context import BACKEND

log = logging.getLogger(__name__)
tracer = trace.get_tracer("admin_console.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_QUIET = ("/healthz", "/readyz", "/metrics", "/static/")


class ConsoleMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "console_http_requests",
            "Console requests by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "console_http_request_duration_seconds",
            "Time to answer a console request.",
            ["method", "route"],
            registry=registry,
            buckets=metrics.LATENCY_BUCKETS,
        )


METRICS = web.AppKey("console_metrics", ConsoleMetrics)


def _route(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = _route(request)
    start = time.perf_counter()
    status = 500
    with tracer.start_as_current_span(
        f"{request.method} {route}",
        context=telemetry.extract(request.headers),
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": request.method, "http.route": route},
    ) as span:
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            elapsed = time.perf_counter() - start
            m = request.app[METRICS]
            m.requests.labels(request.method, route, str(status)).inc()
            m.latency.labels(request.method, route).observe(elapsed)
            span.set_attribute("http.response.status_code", status)
            if not request.path.startswith(_QUIET):
                log.info(
                    "request",
                    extra={
                        "method": request.method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    ready = await request.app[BACKEND].ready()
    return web.Response(text="ready" if ready else "not ready", status=200 if ready else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    return metrics.exposition(request.app[METRICS].registry)
