"""OpenTelemetry auto-instrumentation, switched on only when a tracer provider is installed.

Instrumenting costs time on every call; without a configured exporter the spans would go nowhere.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider


def _tracing_on() -> bool:
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def instrument_grpc_server() -> None:
    if _tracing_on():
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer  # noqa: PLC0415

        GrpcAioInstrumentorServer().instrument()


def instrument_grpc_client() -> None:
    if _tracing_on():
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient  # noqa: PLC0415

        GrpcAioInstrumentorClient().instrument()


def instrument_asyncpg() -> None:
    if _tracing_on():
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor  # noqa: PLC0415

        AsyncPGInstrumentor().instrument()
