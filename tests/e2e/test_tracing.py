"""One trace per SCIM request, across the edge, the directory, the outbox relay and portal-actions.

The services run as real processes configured only by the standard OTEL_* variables; their OTLP/HTTP
exporters send to a collector that lives in this test and keeps every span in memory.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from suite_common.embedded.processes import free_port

from tests.support.admin import Admin
from tests.support.eventually import assert_eventually
from tests.support.scim_client import ScimClient
from tests.support.servers import Servers
from tests.support.stack import Stack, own_stack

CREATE_USER_ROUTE = "POST /scim/v2/{connection_id}/Users"


@dataclass(frozen=True)
class Recorded:
    service: str
    span: Span

    def attr(self, key: str) -> str:
        return next((a.value.string_value for a in self.span.attributes if a.key == key), "")


class OtlpCollector:
    """The smallest OTLP/HTTP trace receiver: it decodes each export and keeps the spans."""

    def __init__(self) -> None:
        self.spans: list[Recorded] = []
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    async def _export(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(Recorded(attrs.get("service.name", "?"), s) for s in scope_spans.spans)
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/traces", self._export)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def trace(self, trace_id: bytes) -> list[Recorded]:
        return [r for r in self.spans if r.span.trace_id == trace_id]


@dataclass
class Traced:
    stack: Stack
    collector: OtlpCollector


@pytest_asyncio.fixture(scope="module")
async def traced(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[Traced]:
    collector = OtlpCollector()
    await collector.start()
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    # The stack stops off the loop (see running_stack), so the collector still takes the last spans.
    async with own_stack(request, servers, "tracing", env=env) as stack:
        yield Traced(stack, collector)
    await collector.stop()


async def test_create_user_is_one_trace_across_all_three_services(
    traced: Traced, http: aiohttp.ClientSession
) -> None:
    admin = Admin(traced.stack)
    try:
        tenant = await admin.enable("tracing", "store", on_create="employee")
        scim = ScimClient(http, traced.stack.edge_url, tenant)
        created = await scim.post("/Users", {"userName": "traced@example.com", "active": True})
        assert created.status == 201, (created, traced.stack.log_dir)

        async def employee_exists() -> None:
            accounts = await admin.accounts(tenant)
            assert accounts.get("traced@example.com", {}).get("status") == "active", accounts

        await assert_eventually(employee_exists)
    finally:
        await admin.close()

    async def spans_of_the_request() -> list[Recorded]:
        roots = [r for r in traced.collector.spans if r.span.name == CREATE_USER_ROUTE]
        assert len(roots) == 1, [r.span.name for r in traced.collector.spans]
        root = roots[0]
        assert root.service == "scim-edge" and root.span.kind == Span.SPAN_KIND_SERVER
        assert root.attr("http.route") == "/scim/v2/{connection_id}/Users"
        spans = traced.collector.trace(root.span.trace_id)
        consumers = [r for r in spans if r.span.kind == Span.SPAN_KIND_CONSUMER]
        assert [r.service for r in consumers] == ["portal-actions"], [(r.service, r.span.name) for r in spans]
        # Each process exports on its own schedule: wait until all three have sent their part.
        assert any(r.service == "portal-actions" and r.attr("db.system") == "postgresql" for r in spans)
        assert any(r.service == "directory" and r.span.kind == Span.SPAN_KIND_SERVER for r in spans)
        assert any(r.service == "directory" and r.span.kind == Span.SPAN_KIND_PRODUCER for r in spans)
        return spans

    spans = await assert_eventually(spans_of_the_request, timeout=20)
    by_id = {r.span.span_id: r for r in spans}
    assert {r.service for r in spans} == {"scim-edge", "directory", "portal-actions"}

    # The edge's gRPC client span is the parent of the directory's gRPC server span.
    server = next(r for r in spans if r.service == "directory" and r.span.kind == Span.SPAN_KIND_SERVER)
    assert server.span.name.endswith("DirectoryService/CreateResource")
    assert by_id[server.span.parent_span_id].service == "scim-edge"
    assert any(r.service == "directory" and r.attr("db.system") == "postgresql" for r in spans)

    # The context went into the outbox row with the change, and out again with the relay's publish...
    producer = next(r for r in spans if r.span.kind == Span.SPAN_KIND_PRODUCER)
    assert producer.service == "directory" and producer.span.name == "outbox publish"
    assert producer.span.parent_span_id == server.span.span_id
    # ...and through the NATS message headers to portal-actions.
    consumer = next(r for r in spans if r.span.kind == Span.SPAN_KIND_CONSUMER)
    assert consumer.span.parent_span_id == producer.span.span_id
