"""OpenTelemetry wiring: tracing is off unless the standard OTEL_* variables ask for an exporter.

One trace follows a SCIM request: the edge's HTTP server span, the gRPC client and server spans, the
directory's asyncpg spans, the outbox row (which stores `traceparent`), the relay's publish span, the NATS
message headers and portal-actions' consume span.

The variables read here:
- `OTEL_TRACES_EXPORTER`: `otlp` (the default once an endpoint is set), `console` or `none`;
- `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: where spans go;
- `OTEL_EXPORTER_OTLP_PROTOCOL` / `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`: `grpc` (default) or `http/protobuf`;
- `OTEL_SERVICE_NAME`: overrides the service's own name; `OTEL_SDK_DISABLED=true` turns everything off.
The SDK itself reads the rest (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`, `OTEL_TRACES_SAMPLER`, headers).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from suite_common.settings import SettingsError

# Set once a tracer provider is installed. While it is off, `inject` and `extract` do no work and the HTTP
# observer makes no span: with no provider every span would be a no-op anyway, so propagating contexts per
# request would be pure cost (issue 16).
_tracing = False


def tracing_enabled() -> bool:
    return _tracing


def tracing_requested(env: Mapping[str, str]) -> bool:
    exporter = env.get("OTEL_TRACES_EXPORTER", "")
    if exporter == "none" or env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return bool(exporter or endpoint)


def span_exporter(env: Mapping[str, str]) -> SpanExporter:
    """The exporter the environment names; the OTLP exporters read their endpoint and headers themselves."""
    kind = (env.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")[0].strip()
    if kind == "console":
        return ConsoleSpanExporter()
    if kind != "otlp":
        raise SettingsError(f"OTEL_TRACES_EXPORTER must be otlp, console or none, got {kind!r}")
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        return HttpSpanExporter()
    raise SettingsError(f"OTEL_EXPORTER_OTLP_PROTOCOL must be grpc or http/protobuf, got {protocol!r}")


def setup_tracing(
    service_name: str, env: Mapping[str, str], extra_processor: SpanProcessor | None = None
) -> TracerProvider | None:
    """Install a tracer provider when OTEL_* asks for one (or a test passes a processor); else do nothing.

    The provider flushes its batch at interpreter exit, so spans of a draining process are not lost.
    """
    if not tracing_requested(env) and extra_processor is None:
        return None
    name = env.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if tracing_requested(env):
        provider.add_span_processor(BatchSpanProcessor(span_exporter(env)))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    global _tracing
    _tracing = True
    return provider


def inject(carrier: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write the current context as W3C `traceparent`/`tracestate` into a header mapping (nothing while
    tracing is off)."""
    if _tracing:
        propagate.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str]) -> otel_context.Context:
    """The context a carrier's W3C headers name (an empty one while tracing is off)."""
    return propagate.extract(carrier) if _tracing else otel_context.Context()


def current_trace_ids() -> dict[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return {}
    return {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}
