"""The aiohttp side of a service: one app factory with observability, health and drain built in.

`web_app` gives every HTTP service the same outermost middleware (a span, the request series and one log
line per request, keyed by a route template so that ids in paths never become series), `/metrics`,
`/healthz` (the process answers) and `/readyz` (its dependencies answer and it is not draining).
`serve_web` binds it as a part of a `Runtime`: on shutdown readiness drops first, the listener closes,
connections accepted just before get `linger_s` to deliver their request, then in-flight requests finish.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from suite_common import metrics, telemetry
from suite_common.health import DependencyHealth
from suite_common.log_sampling import SuccessSampler
from suite_common.service import Runtime

log = logging.getLogger(__name__)
tracer = trace.get_tracer("suite_common.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JsonResponse = Callable[[Any, int], web.Response]
OPERATIONAL = frozenset({"/healthz", "/readyz", "/metrics"})


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            registry=registry,
            buckets=metrics.LATENCY_BUCKETS,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight", "HTTP requests being handled now.", registry=registry
        )


METRICS = web.AppKey("http_metrics", HttpMetrics)
HEALTH = web.AppKey("health", DependencyHealth)


def observing(
    m: HttpMetrics,
    route_template: Callable[[str], str],
    log_fields: Callable[[web.Request], Mapping[str, object]],
    access_log_every: int = 1,
) -> Middleware:
    """The outermost middleware: it sees the final status, after errors became responses.

    Every request is counted and timed, and traced when tracing is on (with it off, no span is made at
    all). Its log line is written at INFO for every answer of 400 or more, and for the first and then every
    `access_log_every`-th success per route (1: all of them); every other success is logged at DEBUG. A
    JSON line per request costs more CPU than many a request itself (docs/benchmarks.md).
    """
    sampler = SuccessSampler(access_log_every)

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = route_template(request.path)
        if not telemetry.tracing_enabled():
            return await answer(request, handler, route, None)
        with tracer.start_as_current_span(
            f"{request.method} {route}",
            context=telemetry.extract(request.headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": route, "url.path": request.path},
        ) as span:
            return await answer(request, handler, route, span)

    async def answer(
        request: web.Request, handler: Handler, route: str, span: trace.Span | None
    ) -> web.StreamResponse:
        method = request.method
        start = time.perf_counter()
        status = 500
        m.in_flight.inc()
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # redirects and the like, raised rather than returned
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away first (nginx's convention)
            raise
        finally:
            elapsed = time.perf_counter() - start
            m.in_flight.dec()
            m.requests.labels(method, route, str(status)).inc()
            m.latency.labels(method, route).observe(elapsed)
            if span is not None:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(trace.StatusCode.ERROR)
            failed = status >= 400
            level = sampler.level((method, route), failed=failed) if route not in OPERATIONAL else None
            if level is not None and log.isEnabledFor(level):
                sampled = sampler.fields(failed=failed)
                log.log(
                    level,
                    "request",
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        **sampled,
                        **log_fields(request),
                    },
                )

    return observe


def _no_fields(request: web.Request) -> Mapping[str, object]:
    return {}


def _json(body: Any, status: int) -> web.Response:
    return web.json_response(body, status=status)


def web_app(
    *,
    health: DependencyHealth,
    route_template: Callable[[str], str],
    middlewares: Iterable[Middleware] = (),
    log_fields: Callable[[web.Request], Mapping[str, object]] = _no_fields,
    json_response: JsonResponse = _json,
    client_max_size: int = 1024**2,
    access_log_every: int = 1,
) -> web.Application:
    """An app with the observability middleware outermost, then `middlewares`, and the operational routes.

    `/readyz` names the first failing dependency (`{"status": "directory unavailable"}`), or says
    `draining` once shutdown began.
    """
    m = HttpMetrics(metrics.new_registry())
    app = web.Application(
        middlewares=[observing(m, route_template, log_fields, access_log_every), *middlewares],
        client_max_size=client_max_size,
    )
    app[METRICS] = m
    app[HEALTH] = health

    async def healthz(request: web.Request) -> web.Response:
        return json_response({"status": "ok"}, 200)

    async def readyz(request: web.Request) -> web.Response:
        if health.draining:
            return json_response({"status": "draining"}, 503)
        failing = await health.check_once()
        if failing:
            return json_response({"status": f"{failing[0]} unavailable"}, 503)
        return json_response({"status": "ready"}, 200)

    async def metrics_endpoint(request: web.Request) -> web.Response:
        return metrics.exposition(m.registry)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


async def serve_web(
    runtime: Runtime,
    app: web.Application,
    host: str,
    port: int,
    *,
    linger_s: float = 0.5,
    runner_class: type[web.AppRunner] = web.AppRunner,
    **handler_options: Any,
) -> int:
    """Listen on (host, port) until the runtime closes; returns the bound port (a port of 0 asks the OS).

    `runner_class` and `handler_options` (aiohttp's RequestHandler settings such as `max_line_size`) let a
    service choose how connections are parsed and how unparseable requests are answered.
    """
    runner = runner_class(app, access_log=None, shutdown_timeout=runtime.grace_s, **handler_options)
    await runner.setup()
    runtime.on_close(runner.cleanup)
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()

    async def drain() -> None:
        await app[HEALTH].closing()
        # Stop listening, then let connections accepted just before deliver their request: aiohttp's
        # cleanup closes every connection that has not, which its client would see as a dropped request.
        await site.stop()
        await asyncio.sleep(linger_s)

    runtime.on_close(drain)
    sockets = getattr(site._server, "sockets", None) or ()
    return int(sockets[0].getsockname()[1]) if sockets else port
