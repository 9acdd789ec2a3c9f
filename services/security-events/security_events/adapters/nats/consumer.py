"""This service's own durable pull consumer on the directory's event stream.

Same contract as portal-actions' consumer: a message is acked only after its SETs and its id commit; a
database outage naks without counting towards giving up; an event that arrives before its predecessor is
put back until the predecessor is consumed, unless its resource has made no progress for `order_wait_s`
(the predecessor aged out of the stream, or predates this service): then it is consumed regardless. An
event that keeps failing on its own account is terminated after `max_deliveries` with the error logged, so
it never blocks the stream.

A fetched batch is split by resource into up to `groups` groups of at least `MIN_EVENTS_PER_GROUP` events,
each consumed in one transaction side by side (service_layer.build): a resource's events stay in one group,
in version order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.aio.client import Client
from nats.aio.msg import Msg
from suite_common import streams
from suite_common.jetstream_pull import pull_batches
from suite_common.pg import CONNECTION_ERRORS

from security_events.domain.directory_event import DirectoryEvent
from security_events.service_layer.build import CONSUMED, WAITING, ConsumedElsewhere, Outcome

log = logging.getLogger(__name__)
# The group did not commit, through no fault of its events: they all come back.
_REDELIVER: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, ConsumedElsewhere)
Handler = Callable[[list[tuple[bytes, bool]]], Awaitable[list[Outcome]]]
MIN_EVENTS_PER_GROUP = 16
T = TypeVar("T")


class EventConsumer:
    def __init__(
        self,
        nc: Client,
        *,
        names: streams.EventStreams,
        durable: str,
        handler: Handler,
        batch: int,
        max_deliveries: int,
        ack_wait_s: float,
        groups: int,
    ) -> None:
        self.nc = nc
        self.names = names
        self.durable = durable
        self.handler = handler
        self.batch = batch
        self.max_deliveries = max_deliveries
        self.ack_wait_s = ack_wait_s
        self.groups = max(groups, 1)
        self.order_wait_s = max(30.0, 2 * ack_wait_s)
        self._stopping = asyncio.Event()
        # stream sequence -> (since when its resource has not advanced, the version seen then)
        self._waiting: dict[str, tuple[float, int]] = {}
        self.consumed_total = 0

    async def shutdown(self) -> None:
        """Idempotent: stop fetching; the batch in hand finishes and is acked."""
        self._stopping.set()

    async def run(self) -> None:
        await pull_batches(
            self.nc,
            self.names,
            durable=self.durable,
            ack_wait_s=self.ack_wait_s,
            batch=self.batch,
            stopping=self._stopping,
            handle=self._handle_fetched,
        )

    async def _handle_fetched(self, msgs: list[Msg]) -> None:
        groups = split_into_groups(_chains(msgs), self.groups)
        await asyncio.gather(*(self._group(g) for g in groups))

    def _stalled_for(self, key: str, seen: int) -> float:
        now = asyncio.get_running_loop().time()
        if len(self._waiting) > 10_000:
            for stale in [k for k, (t, _) in self._waiting.items() if now - t > 2 * self.order_wait_s]:
                del self._waiting[stale]
        since, before = self._waiting.get(key, (now, seen))
        if seen > before:
            since = now
        self._waiting[key] = (since, seen)
        return now - since

    async def _group(self, msgs: list[Msg]) -> None:
        try:
            outcomes = await self.handler([(m.data, True) for m in msgs])
        except _REDELIVER as exc:
            log.warning("group not consumed; its events will be redelivered", extra={"error": str(exc)})
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=1.0)
            return
        for msg, outcome in zip(msgs, outcomes, strict=True):
            await self._settle(msg, outcome)

    async def _settle(self, msg: Msg, outcome: Outcome) -> None:
        key = str(msg.metadata.sequence.stream) if msg.metadata else msg.reply
        if outcome.kind == WAITING:
            stalled = self._stalled_for(key, outcome.seen)
            if stalled < self.order_wait_s:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=min(0.2 + stalled / 5, 2.0))
                return
            log.warning("predecessor never came; consuming out of order", extra={"subject": msg.subject})
            try:
                (outcome,) = await self.handler([(msg.data, False)])
            except _REDELIVER:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=1.0)
                return
        if outcome.kind == CONSUMED:
            self._waiting.pop(key, None)
            self.consumed_total += 1
            with contextlib.suppress(Exception):
                await msg.ack()
            return
        deliveries = msg.metadata.num_delivered if msg.metadata else 1
        if deliveries >= self.max_deliveries:
            log.error("event given up", extra={"subject": msg.subject, "error": outcome.error})
            with contextlib.suppress(Exception):
                await msg.term()
            return
        log.warning("event failed; will retry", extra={"error": outcome.error, "deliveries": deliveries})
        with contextlib.suppress(Exception):
            await msg.nak(delay=min(0.2 * 2**deliveries, 10.0))


def split_into_groups(chains: list[list[T]], most: int) -> list[list[T]]:
    """Deal whole chains into at most `most` groups, each of `MIN_EVENTS_PER_GROUP` events or more.

    A group's transaction costs the same handful of statements and one commit whatever its size, so a small
    batch stays one group: side-by-side groups only pay off once each has a share of the work.
    """
    if not chains:
        return []
    events = sum(len(chain) for chain in chains)
    count = max(1, min(most, len(chains), events // MIN_EVENTS_PER_GROUP))
    return [[m for chain in chains[i::count] for m in chain] for i in range(count)]


def _chains(msgs: list[Msg]) -> list[list[Msg]]:
    """One chain per resource in version order: chains run side by side, a chain's events one by one."""
    chains: dict[str, list[tuple[int, Msg]]] = {}
    for i, msg in enumerate(msgs):
        key = DirectoryEvent.order_key(msg.data)
        resource, version = key if key is not None else (f"unreadable-{i}", 0)
        chains.setdefault(resource, []).append((version, msg))
    return [[m for _, m in sorted(chain, key=lambda vm: vm[0])] for chain in chains.values()]
