"""suite_common's service runtime: parts close in reverse order of opening, on a normal stop and when the
start fails half-way; loops are asked to stop, then given their grace. DependencyHealth, wait_or_timeout."""

from __future__ import annotations

import asyncio

import pytest
from suite_common.health import NOT_SERVING, SERVING, DependencyHealth
from suite_common.service import Runtime, run_service
from suite_common.waiting import wait_or_timeout


async def test_parts_close_in_reverse_order_after_a_stop() -> None:
    closed: list[str] = []
    stop, ready = asyncio.Event(), asyncio.Event()

    def closer(name: str):
        async def close() -> None:
            closed.append(name)

        return close

    async def compose(runtime: Runtime) -> None:
        for name in ("metrics", "pool", "servers", "health"):
            runtime.on_close(closer(name))

    runner = asyncio.create_task(run_service("svc", compose, stop, grace_s=1.0, ready=ready))
    await ready.wait()
    assert closed == []
    stop.set()
    await runner
    assert closed == ["health", "servers", "pool", "metrics"]


async def test_a_failed_start_closes_what_it_had_opened() -> None:
    closed: list[str] = []
    ready = asyncio.Event()

    async def compose(runtime: Runtime) -> None:
        async def close_pool() -> None:
            closed.append("pool")

        runtime.on_close(close_pool)
        raise OSError("the port is taken")

    with pytest.raises(OSError, match="port is taken"):
        await run_service("svc", compose, asyncio.Event(), grace_s=1.0, ready=ready)
    assert closed == ["pool"] and not ready.is_set()


async def test_a_loop_is_asked_to_stop_and_one_that_ignores_it_is_cancelled_after_its_grace() -> None:
    stop = asyncio.Event()
    asked = asyncio.Event()
    cancelled: list[bool] = []

    async def polite() -> None:
        await asked.wait()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def ask() -> None:
        asked.set()

    async def compose(runtime: Runtime) -> None:
        runtime.spawn(polite(), shutdown=ask)
        runtime.spawn(stubborn(), grace_s=0.01)
        stop.set()

    await run_service("svc", compose, stop, grace_s=5.0)
    assert asked.is_set() and cancelled == [True]


async def test_dependency_health_names_the_failing_check_and_stays_down_once_draining() -> None:
    up = {"database": True}

    async def database() -> bool:
        return up["database"]

    async def broken() -> bool:
        raise ConnectionError("refused")

    health = DependencyHealth({"database": database}, ["svc.v1.Api"])
    assert await health.check_once() == [] and health.serving
    up["database"] = False
    assert await health.check_once() == ["database"] and not health.serving
    assert await DependencyHealth({"nats": broken}).check_once() == ["nats"]
    up["database"] = True
    stop = asyncio.Event()
    runner = asyncio.create_task(health.run(stop))
    await health.closing()
    stop.set()
    await runner
    assert health.servicer._status["svc.v1.Api"] == NOT_SERVING
    assert health.servicer._status["liveness"] == SERVING


async def test_wait_or_timeout_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_or_timeout(event, 0.01) is False
    event.set()
    assert await wait_or_timeout(event, 5.0) is True
