"""Prometheus metrics: one registry per process, the `/metrics` endpoint, and the gRPC server interceptor.

Each service builds its registry in its bootstrap and hands it to whatever records into it, so nothing
registers into a module-global default registry and two apps in one test process never collide.

gRPC series follow the names of the widely used go-grpc-prometheus interceptors, so stock dashboards
work: `grpc_server_handled_total{grpc_service,grpc_method,grpc_code}` and
`grpc_server_handling_seconds{grpc_service,grpc_method}`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from suite_common.db_statements import mark_background
from suite_common.log_sampling import DEFAULT_EVERY, SuccessSampler
from suite_common.waiting import wait_or_timeout

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Health checks run every few seconds from every prober; logging each would drown the request log.
_QUIET_SERVICES = frozenset({"grpc.health.v1.Health"})


def new_registry() -> CollectorRegistry:
    return CollectorRegistry()


def exposition(registry: CollectorRegistry) -> web.Response:
    """The registry in the Prometheus text format, as an aiohttp response."""
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def listen_host(listen: str) -> str:
    """The host part of `host:port`, so the metrics port is exposed exactly as widely as the gRPC port."""
    host = listen.rsplit(":", 1)[0] if ":" in listen else listen
    # An empty host means every interface, as it does for gRPC.
    return host.strip("[]") or "0.0.0.0"


class MetricsServer:
    """Serves `/metrics` for a process whose own API is not HTTP. Port 0 means no endpoint."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self.registry = registry
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if not self.port:
            return

        async def metrics(_: web.Request) -> web.Response:
            return exposition(self.registry)

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port, reuse_address=True).start()
        log.info("metrics endpoint listening", extra={"host": self.host, "port": self.port})

    async def close(self) -> None:
        """Idempotent; called last on shutdown so the final counts can still be scraped while draining."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


async def sample_every(interval_s: float, sample: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
    """Run a gauge sampler until `stop`; a failed sample is logged and retried, never fatal."""
    mark_background()
    while not stop.is_set():
        try:
            await sample()
        except Exception as exc:  # a gauge going stale must not stop the service
            log.warning(
                "metrics sample failed",
                extra={"sampler": getattr(sample, "__qualname__", "?"), "error": str(exc)},
            )
        await wait_or_timeout(stop, interval_s)


def _split_method(full: str) -> tuple[str, str]:
    service, _, method = full.lstrip("/").partition("/")
    return service, method


class GrpcServerMetrics(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts, times and logs every unary call; streaming calls (health `Watch`) pass through untouched."""

    def __init__(self, registry: CollectorRegistry, log_every: int = DEFAULT_EVERY) -> None:
        """`log_every`: an "rpc handled" line at INFO for every failure and every `log_every`-th success
        per method (`suite_common.log_sampling`); the counters see every call."""
        self.sampler = SuccessSampler(log_every)
        self.handled = Counter(
            "grpc_server_handled",
            "gRPC calls completed, by method and status code.",
            ["grpc_service", "grpc_method", "grpc_code"],
            registry=registry,
        )
        self.latency = Histogram(
            "grpc_server_handling_seconds",
            "Time to handle a gRPC call, by method.",
            ["grpc_service", "grpc_method"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],  # type: ignore[type-arg]
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:  # type: ignore[type-arg]
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        service, method = _split_method(handler_call_details.method)
        inner: Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]] = handler.unary_unary  # type: ignore[assignment]

        async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            start = time.perf_counter()
            code = grpc.StatusCode.UNKNOWN
            try:
                response = await inner(request, context)
                code = context.code() or grpc.StatusCode.OK
                return response
            except BaseException:
                # An abort has set the code; anything else reaches the client as UNKNOWN (or CANCELLED).
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            finally:
                elapsed = time.perf_counter() - start
                self.handled.labels(service, method, code.name).inc()
                self.latency.labels(service, method).observe(elapsed)
                failed = code is not grpc.StatusCode.OK
                level = self.sampler.level(method, failed=failed)
                if service not in _QUIET_SERVICES and log.isEnabledFor(level):
                    log.log(
                        level,
                        "rpc handled",
                        extra={
                            "grpc_method": f"{service}/{method}",
                            "grpc_code": code.name,
                            "duration_ms": round(elapsed * 1000, 2),
                            **self.sampler.fields(failed=failed),
                        },
                    )

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
