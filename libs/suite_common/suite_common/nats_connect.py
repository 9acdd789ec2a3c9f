"""Connecting to NATS so that an unreachable server is retried, not fatal."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client

from suite_common.waiting import wait_or_timeout

log = logging.getLogger(__name__)


async def connect_forever(url: str, stopping: asyncio.Event, name: str) -> Client | None:
    """Connect, retrying with backoff until connected or `stopping` is set (then None)."""
    delay = 0.2
    while not stopping.is_set():
        try:
            return await nats.connect(
                url,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                allow_reconnect=True,
            )
        except Exception as exc:
            log.warning("NATS not reachable, retrying", extra={"error": str(exc), "retry_in_s": delay})
        await wait_or_timeout(stopping, delay)
        delay = min(delay * 2, 5.0)
    return None
