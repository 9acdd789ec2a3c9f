"""Waiting for asynchronous effects without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def assert_eventually(
    check: Callable[[], Awaitable[T]],
    timeout: float = 15.0,  # noqa: ASYNC109 - a deadline for re-checking, not an I/O timeout
    interval: float = 0.05,
) -> T:
    """Re-run `check` until it stops raising AssertionError, or re-raise its last failure at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(interval)
