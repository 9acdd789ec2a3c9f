"""Waiting on a stop event with a bound, the pause every background loop takes between rounds."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_or_timeout(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until `event` is set or `timeout_s` passes; True when the event is set.

    Loops sleep through this instead of `asyncio.sleep` so that a shutdown ends their pause at once.
    """
    if event.is_set():
        return True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout_s)
    return event.is_set()
