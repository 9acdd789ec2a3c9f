"""OpenTelemetry wiring: tracing is off unless the standard OTEL_* variables ask for an exporter.

One trace follows a SCIM request: the edge's HTTP server span, the gRPC client and server spans, the
directory's asyncpg spans, the outbox row (which stores `traceparent`), the relay's publish span, the NATS
message headers and portal-actions' consume span.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def tracing_requested(env: Mapping[str, str]) -> bool:
    exporter = env.get("OTEL_TRACES_EXPORTER", "")
    if exporter == "none" or env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(exporter or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def setup_tracing(
    service_name: str, env: Mapping[str, str], extra_processor: SpanProcessor | None = None
) -> TracerProvider | None:
    """Install a tracer provider when OTEL_* asks for one (or a test passes a processor); else do nothing."""
    if not tracing_requested(env) and extra_processor is None:
        return None
    name = env.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if tracing_requested(env):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    return provider


def inject(carrier: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write the current context as W3C `traceparent`/`tracestate` into a header mapping."""
    propagate.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str]) -> otel_context.Context:
    return propagate.extract(carrier)


def current_trace_ids() -> dict[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return {}
    return {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}
