"""Each service's `/metrics` moves with the traffic it handles, and its logs name workspace and portal.

The edge serves /metrics on its own HTTP port; the directory and portal-actions on their METRICS_PORT.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import nats
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from suite_common.embedded.processes import free_port

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.scim_client import ScimClient
from tests.support.servers import Servers
from tests.support.stack import Stack, own_stack

USERS_ROUTE = "/scim/v2/{connection_id}/Users"
DIRECTORY_SERVICE = "scimsuite.directory.v1.DirectoryService"

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Measured:
    stack: Stack
    scrape_urls: dict[str, str]


@pytest_asyncio.fixture(scope="module")
async def measured(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[Measured]:
    directory_port, portal_port = free_port(), free_port()
    env = {
        "DIRECTORY_METRICS_PORT": str(directory_port),
        "PORTAL_METRICS_PORT": str(portal_port),
        "PORTAL_MAX_DELIVERIES": "1",  # a poison event goes to the dead letters on its first failure
    }
    async with own_stack(request, servers, "metrics", env=env) as stack:
        yield Measured(
            stack,
            {
                "scim-edge": f"{stack.edge_url}/metrics",
                "directory": f"http://127.0.0.1:{directory_port}/metrics",
                "portal-actions": f"http://127.0.0.1:{portal_port}/metrics",
            },
        )


async def scrape(http: aiohttp.ClientSession, url: str) -> Series:
    async with http.get(url) as resp:
        assert resp.status == 200, url
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


def present(series: Series, name: str) -> bool:
    return any(n == name for n, _ in series)


async def poison(stack: Stack, nats_url: str) -> None:
    """An event no consumer can decode, published where the directory's relay would publish."""
    nc = await nats.connect(nats_url)
    try:
        subject = f"{stack.stream.lower()}.events.store.user"
        await nc.jetstream().publish(
            subject, b"not an event envelope", headers={"Nats-Msg-Id": str(uuid.uuid4())}
        )
    finally:
        await nc.close()


async def test_series_move_with_traffic(
    measured: Measured, servers: Servers, http: aiohttp.ClientSession
) -> None:
    urls = measured.scrape_urls
    before = {name: await scrape(http, url) for name, url in urls.items()}
    admin = Admin(measured.stack)
    try:
        tenant = await admin.enable("metrics", "store", on_create="employee")
        scim = ScimClient(http, measured.stack.edge_url, tenant)
        assert (await scim.post("/Users", {"userName": "measured@example.com", "active": True})).status == 201
        assert (await scim.get(f"/Users/{uuid.uuid4()}")).status == 404
        await poison(measured.stack, servers.nats_url)

        async def moved() -> None:
            now = {name: await scrape(http, url) for name, url in urls.items()}
            edge, directory, portal = now["scim-edge"], now["directory"], now["portal-actions"]
            was_edge, was_directory, was_portal = (
                before["scim-edge"],
                before["directory"],
                before["portal-actions"],
            )

            # HTTP rate, errors and latency by route template and status.
            created = ("http_requests_total", {"method": "POST", "route": USERS_ROUTE, "status": "201"})
            missing = (
                "http_requests_total",
                {"method": "GET", "route": f"{USERS_ROUTE}/{{id}}", "status": "404"},
            )
            for name, labels in (created, missing):
                assert value(edge, name, **labels) > value(was_edge, name, **labels), (name, labels)
            latency = ("http_request_duration_seconds_count", {"method": "POST", "route": USERS_ROUTE})
            assert value(edge, latency[0], **latency[1]) > value(was_edge, latency[0], **latency[1])

            # gRPC by method and code, on both gRPC services.
            ok = {"grpc_service": DIRECTORY_SERVICE, "grpc_method": "CreateResource", "grpc_code": "OK"}
            not_found = {
                "grpc_service": DIRECTORY_SERVICE,
                "grpc_method": "GetResource",
                "grpc_code": "NOT_FOUND",
            }
            for labels in (ok, not_found):
                assert value(directory, "grpc_server_handled_total", **labels) > value(
                    was_directory, "grpc_server_handled_total", **labels
                ), labels
            assert present(directory, "grpc_server_handling_seconds_bucket")
            portal_admin = {
                "grpc_service": "scimsuite.portal.v1.PortalAdmin",
                "grpc_method": "SetBehaviour",
                "grpc_code": "OK",
            }
            assert value(portal, "grpc_server_handled_total", **portal_admin) >= 1

            # The outbox: published events count up; backlog and age are sampled.
            assert value(directory, "directory_outbox_published_total") > value(
                was_directory, "directory_outbox_published_total"
            )
            assert present(directory, "directory_outbox_backlog")
            assert present(directory, "directory_outbox_oldest_age_seconds")

            # portal-actions: actions applied by portal and kind, dead letters, consumer lag.
            applied = {"portal": "store", "action": "create-employee"}
            assert value(portal, "portal_actions_applied_total", **applied) > value(
                was_portal, "portal_actions_applied_total", **applied
            )
            assert value(portal, "portal_dead_letters_total", portal="store") > value(
                was_portal, "portal_dead_letters_total", portal="store"
            )
            assert present(portal, "portal_consumer_pending_messages")
            assert present(portal, "portal_consumer_ack_pending_messages")

        await assert_eventually(moved, timeout=30)

        async def idle() -> None:
            directory = await scrape(http, urls["directory"])
            portal = await scrape(http, urls["portal-actions"])
            assert value(directory, "directory_outbox_backlog") == 0
            assert value(directory, "directory_outbox_oldest_age_seconds") == 0
            assert value(portal, "portal_consumer_pending_messages") == 0
            assert value(portal, "portal_consumer_ack_pending_messages") == 0

        # The gauges are sampled from the real outbox and JetStream: idle, everything has drained.
        await assert_eventually(idle, timeout=20)
    finally:
        await admin.close()
    assert_logs_name_the_tenant_and_hold_no_secret(measured.stack, tenant)


def assert_logs_name_the_tenant_and_hold_no_secret(stack: Stack, tenant: Tenant) -> None:
    lines = {
        path.name: [json.loads(raw) for raw in path.read_text().splitlines() if raw.startswith("{")]
        for path in stack.log_dir.glob("*.log")
    }
    creates = [
        line
        for line in lines["directory-0.log"]
        if line["msg"] == "rpc handled" and line["grpc_method"].endswith("/CreateResource")
    ]
    assert creates and all(
        (line["workspace"], line["portal"]) == (tenant.workspace_id, "store") for line in creates
    ), creates
    applied = [line for line in lines["portal-actions-0.log"] if line["msg"] == "event applied"]
    assert applied and all(line["workspace"] == tenant.workspace_id for line in applied)
    requests = [line for line in lines["scim-edge-0.log"] if line["msg"] == "request"]
    assert any(line["route"] == USERS_ROUTE and line["status"] == 201 for line in requests)
    everything = "\n".join(path.read_text() for path in stack.log_dir.glob("*.log"))
    assert tenant.token not in everything and stack.admin_token not in everything
