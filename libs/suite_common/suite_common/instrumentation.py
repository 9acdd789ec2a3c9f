"""OpenTelemetry auto-instrumentation, switched on only when a tracer provider is installed.

Instrumenting costs time on every call; without a configured exporter the spans would go nowhere. Each
function must run before the server, channel or pool it instruments is created: the instrumentors patch
the constructors. asyncpg spans carry the SQL text only, never its bind parameters.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider


def _tracing_on() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def instrument_grpc_server() -> None:
    if _tracing_on():
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer

        GrpcAioInstrumentorServer().instrument()  # type: ignore[no-untyped-call]


def instrument_grpc_client() -> None:
    if _tracing_on():
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient

        GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]


def instrument_asyncpg() -> None:
    if _tracing_on():
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]


# What a gRPC service on PostgreSQL instruments (the directory, portal-actions).
GRPC_SERVER_ON_POSTGRES = (instrument_grpc_server, instrument_asyncpg)
