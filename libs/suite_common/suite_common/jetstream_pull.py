"""A durable JetStream pull consumer of the directory's events: the part every consuming service shares.

`pull_batches` makes sure the event streams exist as configured (the consumers may start before the
directory has created them), binds the durable consumer (explicit acks, redelivery after `ack_wait_s`,
no delivery limit: the services dead-letter themselves), and hands each fetched batch to `handle` until
`stopping` is set. Which order a batch is applied in, and what is acked when, stays with the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

from suite_common.streams import EventStreams, ensure_stream
from suite_common.waiting import wait_or_timeout

log = logging.getLogger(__name__)
BatchHandler = Callable[[list[Msg]], Awaitable[None]]


async def _subscribe(
    nc: Client, names: EventStreams, durable: str, ack_wait_s: float, stopping: asyncio.Event
) -> Any | None:
    """Bind the durable consumer, retrying each second (NATS down, stream not yet there) until stopped."""
    js = nc.jetstream()
    while not stopping.is_set():
        try:
            # The same configuration the relay gives them, replica count included: a consumer that
            # re-created a stream with other settings would move it back and forth.
            await ensure_stream(js, names.stream, [names.events_filter], 3600.0, replicas=names.replicas)
            await ensure_stream(
                js, names.dead_letter_stream, [names.dead_letter_filter], 3600.0, replicas=names.replicas
            )
            return await js.pull_subscribe(
                names.events_filter,
                durable=durable,
                stream=names.stream,
                config=ConsumerConfig(
                    durable_name=durable,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=ack_wait_s,
                    deliver_policy=DeliverPolicy.ALL,
                    max_ack_pending=4096,
                    max_deliver=-1,
                ),
            )
        except Exception as exc:
            log.warning("cannot subscribe yet", extra={"error": str(exc)})
            await wait_or_timeout(stopping, 1.0)
    return None


async def pull_batches(
    nc: Client,
    names: EventStreams,
    *,
    durable: str,
    ack_wait_s: float,
    batch: int,
    stopping: asyncio.Event,
    handle: BatchHandler,
) -> None:
    """Fetch up to `batch` messages at a time and `await handle(msgs)`, until `stopping` is set; the
    batch in hand finishes first."""
    sub = await _subscribe(nc, names, durable, ack_wait_s, stopping)
    if sub is None:
        return
    try:
        while not stopping.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=1.0)
            except (FetchTimeoutError, TimeoutError):
                continue
            except Exception as exc:
                log.warning("fetch failed", extra={"error": str(exc)})
                await wait_or_timeout(stopping, 0.5)
                continue
            await handle(msgs)
    finally:
        # A pull subscription left subscribed makes a later `drain()` wait forever on its internal queue.
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
