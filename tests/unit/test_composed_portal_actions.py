"""portal-actions assembled by its composition root with a fake event source (our own port): readiness
follows the source's check, the admin API is guarded, and a service stopped before its source was reached
closes cleanly without ever reporting ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from portal_actions.bootstrap import ADMIN_SERVICE, PortalParts, compose
from portal_actions.config import load_settings
from portal_actions.service_layer.admin import PortalAdmin
from portal_actions.service_layer.consume import EventHandlers
from portal_actions.service_layer.safeguards import Safeguards
from scimsuite.portal.v1 import portal_pb2, portal_pb2_grpc
from suite_common.health import Check
from suite_common.service import Runtime, run_service

from tests.support.eventually import assert_eventually

SETTINGS = load_settings({"PORTAL_GRPC_LISTEN": "127.0.0.1:0", "ADMIN_TOKEN": "portal-admin-token"})


async def fake_parts(runtime: Runtime, settings: Any, metrics: Any) -> PortalParts:
    # No call in these tests reaches a use case: the credential check or health answers first.
    no_pool = cast(asyncpg.Pool, None)
    return PortalParts(
        admin=cast(PortalAdmin, None),
        handlers=cast(EventHandlers, None),
        safeguards=Safeguards(no_pool, settings.guard_defaults),
    )


@dataclass
class FakeEvents:
    """The event source port: connected or not, and stopped with the service."""

    connected: bool = True
    started: int = 0
    stopped: int = 0

    async def __call__(self, runtime: Runtime, settings: Any, parts: PortalParts, metrics: Any) -> Check:
        self.started += 1

        async def stop() -> None:
            self.stopped += 1

        runtime.on_close(stop)

        async def check() -> bool:
            return self.connected

        return check


@dataclass
class Running:
    events: FakeEvents
    health: health_pb2_grpc.HealthStub
    admin: portal_pb2_grpc.PortalAdminAsyncStub
    stop: asyncio.Event
    runner: asyncio.Task[None]


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    events = FakeEvents()
    stop, ready = asyncio.Event(), asyncio.Event()
    ports: list[int] = []

    async def composition(runtime: Runtime) -> None:
        ports.append((await compose(runtime, SETTINGS, fake_parts, events)).port)

    runner = asyncio.create_task(run_service("portal-actions", composition, stop, grace_s=1.0, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{ports[0]}")
    try:
        yield Running(
            events,
            health_pb2_grpc.HealthStub(channel),
            portal_pb2_grpc.PortalAdminStub(channel),
            stop,
            runner,
        )
    finally:
        stop.set()
        await runner
        await channel.close(grace=None)


async def test_readiness_follows_the_event_source(running: Running) -> None:
    async def status() -> int:
        reply = await running.health.Check(health_pb2.HealthCheckRequest(service=ADMIN_SERVICE))
        return int(reply.status)

    async def serving() -> None:
        assert await status() == health_pb2.HealthCheckResponse.SERVING

    async def not_serving() -> None:
        assert await status() == health_pb2.HealthCheckResponse.NOT_SERVING

    await assert_eventually(serving)
    running.events.connected = False
    await assert_eventually(not_serving)
    running.events.connected = True
    await assert_eventually(serving)
    running.stop.set()
    await running.runner
    assert (running.events.started, running.events.stopped) == (1, 1)


async def test_the_admin_api_refuses_a_call_without_the_credential(running: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await running.admin.ListPolicies(portal_pb2.ListPoliciesRequest(workspace_id="w"))
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_service_stopped_before_its_source_answers_closes_without_being_ready() -> None:
    stop, ready = asyncio.Event(), asyncio.Event()

    async def unreachable(runtime: Runtime, settings: Any, parts: PortalParts, metrics: Any) -> Check | None:
        stop.set()  # SIGTERM while still connecting: the source gives up
        return None

    async def composition(runtime: Runtime) -> None:
        await compose(runtime, SETTINGS, fake_parts, unreachable)

    await asyncio.wait_for(run_service("portal-actions", composition, stop, grace_s=1.0, ready=ready), 10)
    assert not ready.is_set()
