"""One trace per console action: the console's HTTP span is the parent of its gRPC calls, and the
directory's server spans of those calls belong to the same trace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.e2e.test_tracing import OtlpCollector, Recorded, Traced
from tests.support.console import ConsoleClient
from tests.support.eventually import assert_eventually
from tests.support.servers import Servers
from tests.support.stack import own_stack


@pytest_asyncio.fixture(scope="module")
async def traced_console(
    request: pytest.FixtureRequest, servers: Servers
) -> AsyncIterator[tuple[Traced, str]]:
    collector = OtlpCollector()
    await collector.start()
    otel = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    # The stack stops off the loop (see running_stack), so the collector still takes the last spans.
    async with own_stack(request, servers, "console_tracing", env=otel) as stack:
        url = stack.start_console(otel)
        yield Traced(stack, collector), url
    await collector.stop()


async def test_creating_a_workspace_is_one_trace_through_grpc(traced_console: tuple[Traced, str]) -> None:
    traced, url = traced_console
    console = ConsoleClient(url)
    try:
        await console.sign_in(traced.stack.admin_token)
        created = await console.submit("/workspaces", "/workspaces", {"name": "traced-console"})
        assert created.status == 200
    finally:
        await console.close()

    async def the_trace() -> list[Recorded]:
        roots = [
            r
            for r in traced.collector.spans
            if r.service == "admin-console" and r.span.name == "POST /workspaces"
        ]
        assert len(roots) == 1, [(r.service, r.span.name) for r in traced.collector.spans]
        assert roots[0].span.kind == Span.SPAN_KIND_SERVER
        spans = traced.collector.trace(roots[0].span.trace_id)
        assert any(
            r.service == "directory" and r.span.name.endswith("DirectoryAdmin/CreateWorkspace") for r in spans
        )
        assert any(
            r.service == "directory" and r.span.name.endswith("ConsoleDirectory/RecordAdminAction")
            for r in spans
        )
        return spans

    spans = await assert_eventually(the_trace, timeout=20)
    by_id = {r.span.span_id: r for r in spans}
    # The console's client span and the directory's server span share the method's name.
    server = next(
        r
        for r in spans
        if r.service == "directory" and r.span.name.endswith("DirectoryAdmin/CreateWorkspace")
    )
    assert server.span.kind == Span.SPAN_KIND_SERVER
    client = by_id[server.span.parent_span_id]
    assert client.service == "admin-console" and client.span.kind == Span.SPAN_KIND_CLIENT
