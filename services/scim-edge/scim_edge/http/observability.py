"""One middleware that traces, measures and logs every request by its route template.

The SCIM router is a catch-all dispatcher (resource names are case-insensitive), so aiohttp's own route
says nothing useful; the template is computed here from the path instead. Spans and series are keyed by
that template (`POST /scim/v2/{connection_id}/Users`), never by the raw path, which holds tenant ids and
resource ids and would make every request its own series.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from suite_common import metrics, telemetry

from scim_edge.http.context import CLIENT_IDP, PROFILE, REQUEST_ID
from scim_edge.scim import idp

log = logging.getLogger(__name__)
tracer = trace.get_tracer("scim_edge.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SCIM_PREFIX = "/scim/v2/{connection_id}"
UNMATCHED = "unmatched"
_ENDPOINTS = {
    "users": "Users",
    "groups": "Groups",
    "bulk": "Bulk",
    "me": "Me",
    "serviceproviderconfig": "ServiceProviderConfig",
    "resourcetypes": "ResourceTypes",
    "schemas": "Schemas",
}
_WITH_ID = {"Users", "Groups", "ResourceTypes", "Schemas"}
_OPERATIONAL = frozenset({"/healthz", "/readyz", "/metrics"})


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
        # Bounded labels: idp is okta | entra | unknown (scim_edge.scim.idp), profile is the one the
        # directory answered with (okta | entra | generic) or "none" when no resource call was made.
        self.by_idp = Counter(
            "scim_requests_by_idp",
            "SCIM requests by the identity provider recognised in them and the profile that answered them.",
            ["idp", "profile"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight", "HTTP requests being handled now.", registry=registry
        )


METRICS = web.AppKey("http_metrics", HttpMetrics)


def route_template(path: str) -> str:
    """`/scim/v2/abc/users/42` -> `/scim/v2/{connection_id}/Users/{id}`; anything unknown -> `unmatched`."""
    if path in _OPERATIONAL:
        return path
    parts = [p for p in path.split("/") if p]
    if parts[:2] != ["scim", "v2"] or len(parts) < 3:
        return UNMATCHED
    tail = parts[3:]
    if not tail:
        return SCIM_PREFIX
    endpoint = _ENDPOINTS.get(tail[0].lower())
    if endpoint is None or len(tail) > 2:
        return UNMATCHED
    if len(tail) == 1:
        return f"{SCIM_PREFIX}/{endpoint}"
    if endpoint in ("Users", "Groups") and tail[1].lower() == ".search":
        return f"{SCIM_PREFIX}/{endpoint}/.search"
    return f"{SCIM_PREFIX}/{endpoint}/{{id}}" if endpoint in _WITH_ID else UNMATCHED


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost middleware: it sees the final status, after SCIM errors became responses."""
    route = route_template(request.path)
    method = request.method
    m = request.app[METRICS]
    start = time.perf_counter()
    status = 500
    request[CLIENT_IDP] = idp.from_request(request.headers, request.query.keys())
    with tracer.start_as_current_span(
        f"{method} {route}",
        context=telemetry.extract(request.headers),
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": method, "http.route": route, "url.path": request.path},
    ) as span:
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
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(trace.StatusCode.ERROR)
            if route not in _OPERATIONAL:
                client, profile = request.get(CLIENT_IDP, idp.UNKNOWN), request.get(PROFILE, "none")
                if route != UNMATCHED:
                    m.by_idp.labels(client, profile).inc()
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "connection_id": request.match_info.get("connection_id", ""),
                        "request_id": request.get(REQUEST_ID, ""),
                        "idp": client,
                        "profile": profile,
                    },
                )


async def metrics_endpoint(request: web.Request) -> web.Response:
    return metrics.exposition(request.app[METRICS].registry)


def install(app: web.Application) -> None:
    """Give the app its own registry and a `/metrics` route (off the Ingress, which routes /scim only)."""
    app[METRICS] = HttpMetrics(metrics.new_registry())
    app.router.add_get("/metrics", metrics_endpoint)
