"""Running one service: compose its parts, serve until stopped, drain, close in reverse order.

A service's `bootstrap` is a composition root: an async function that takes a `Runtime` and opens its
parts one after the other (pool, servers, background loops), registering how to close each. `run_service`
then serves until the stop event is set and closes everything in reverse order of opening, so readiness
drops first, listeners stop next, loops drain, and the pool and the metrics endpoint close last. A start
that fails half-way closes what it had opened before the error propagates: nothing leaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Settings(Protocol):
    @property
    def shutdown_grace_s(self) -> float: ...


S = TypeVar("S", bound=_Settings)


class Runtime:
    """What a composition root registers its parts with; closes them in reverse order of registration."""

    def __init__(self, name: str, stop: asyncio.Event, grace_s: float) -> None:
        self.name = name
        self.stop = stop
        self.grace_s = grace_s
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Runtime:
        await self._stack.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return await self._stack.__aexit__(*exc_info)

    async def enter(self, part: AbstractAsyncContextManager[T]) -> T:
        """Open `part` now; it is closed when the service closes."""
        return await self._stack.enter_async_context(part)

    def on_close(self, close: Callable[[], Awaitable[object]]) -> None:
        """Run `close()` when the service closes (after everything registered later has closed)."""
        self._stack.push_async_callback(close)

    def spawn(
        self,
        loop: Coroutine[Any, Any, object],
        *,
        shutdown: Callable[[], Awaitable[object]] | None = None,
        grace_s: float | None = None,
    ) -> asyncio.Task[object]:
        """Run a background loop; on close `shutdown()` asks it to stop, then it gets `grace_s` to end
        before it is cancelled. Loops that watch `self.stop` need no `shutdown`."""
        task: asyncio.Task[object] = asyncio.create_task(loop)
        grace = self.grace_s if grace_s is None else grace_s

        async def close() -> None:
            if shutdown is not None:
                await shutdown()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, grace)

        self.on_close(close)
        return task


async def run_service(
    name: str,
    compose: Callable[[Runtime], Awaitable[object]],
    stop: asyncio.Event,
    *,
    grace_s: float,
    ready: asyncio.Event | None = None,
) -> None:
    """Compose the service, serve until `stop` is set, then close its parts in reverse order."""
    async with Runtime(name, stop, grace_s) as runtime:
        await compose(runtime)
        if not stop.is_set():
            log.info(f"{name} serving")
            if ready is not None:
                ready.set()
            await stop.wait()
    log.info(f"{name} stopped")


def serving(name: str, compose: Callable[[Runtime, S], Awaitable[object]]) -> Callable[..., Awaitable[None]]:
    """`serve(settings, stop, ready=None)` for a service whose composition root is `compose(runtime,
    settings)`; the grace period for draining is the settings' `shutdown_grace_s`."""

    async def serve(settings: S, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        async def composition(runtime: Runtime) -> None:
            await compose(runtime, settings)

        await run_service(name, composition, stop, grace_s=settings.shutdown_grace_s, ready=ready)

    return serve
