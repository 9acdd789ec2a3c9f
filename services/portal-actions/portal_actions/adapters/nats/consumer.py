"""The durable JetStream pull consumer shared by every portal-actions replica.

A message is acked only after its effects and its id commit in one transaction. A message that keeps
failing for a reason of its own (it cannot be decoded, or applying it raises) goes to the dead-letter
subject after `max_deliveries` tries, with the error recorded, so it never blocks the stream. A database
outage is not the message's fault: those deliveries are retried without counting towards dead-lettering.
Nor is an event that arrives before its predecessor (`domain.ordering`): it is put back until the
predecessor is applied. Only if its resource makes no progress at all for `order_wait_s` (the predecessor
was dead-lettered or aged out) is it applied regardless.

A fetched batch of several events is first applied in one transaction (`batch_handler`), which saves a
transaction's round trips per event; they are acked once it commits. If any of them fails (or waits for a
predecessor outside the batch), the transaction rolls back whole and the batch is applied again one event
at a time as described above, so a failing event alone is retried or dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager

from nats.aio.client import Client
from nats.aio.msg import Msg
from opentelemetry import trace
from suite_common import streams, telemetry
from suite_common.jetstream_pull import pull_batches
from suite_common.pg import CONNECTION_ERRORS

from portal_actions.domain.ordering import PredecessorPending

log = logging.getLogger(__name__)
tracer = trace.get_tracer("portal_actions.consumer")

Handler = Callable[[bytes, bool], Awaitable[None]]  # (event, wait for its predecessor)
SpanFactory = Callable[[], AbstractContextManager[object]]
BatchHandler = Callable[[Sequence[tuple[bytes, SpanFactory]]], Awaitable[None]]  # all in one transaction
OrderKey = Callable[[bytes], tuple[str, int] | None]  # event -> (resource, version)
DeadLetterSink = Callable[[Msg, str, int], Awaitable[None]]
_INFRASTRUCTURE = CONNECTION_ERRORS


class EventConsumer:
    def __init__(
        self,
        nc: Client,
        *,
        names: streams.EventStreams,
        durable: str,
        handler: Handler,
        dead_letter: DeadLetterSink,
        batch: int,
        max_deliveries: int,
        ack_wait_s: float,
        concurrency: int,
        order_key: OrderKey | None = None,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self.nc = nc
        self.batch_handler = batch_handler
        self.order_key = order_key
        self.names = names
        self.durable = durable
        self.handler = handler
        self.dead_letter = dead_letter
        self.batch = batch
        self.max_deliveries = max_deliveries
        self.ack_wait_s = ack_wait_s
        self.limit = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()
        self.applied_total = 0
        self.dead_lettered_total = 0
        # Long enough for a predecessor held by a replica that died to come back (one ack wait) and be
        # applied; short enough that one which never comes (dead-lettered, aged out) holds its resource
        # back only briefly. Measured from the resource's last progress, not from the first put-back: a
        # long chain of one resource's events drains one redelivery at a time, and must keep its order.
        self.order_wait_s = max(30.0, 2 * ack_wait_s)
        # event (stream sequence) -> (since when its resource has not advanced, the version applied then)
        self._waiting: dict[str, tuple[float, int]] = {}

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
            handle=self._apply_fetched,
        )

    async def _apply_fetched(self, msgs: list[Msg]) -> None:
        chains = self._chains(msgs)
        if len(msgs) > 1 and await self._apply_together([m for chain in chains for m in chain]):
            return
        await asyncio.gather(*(self._handle_chain(chain) for chain in chains))

    async def _apply_together(self, msgs: list[Msg]) -> bool:
        """Apply `msgs` (each resource's in version order) in one transaction and ack them; False when the
        transaction failed and rolled back, to be applied one by one."""
        if self.batch_handler is None:
            return False
        async with self.limit:
            try:
                await self.batch_handler([(m.data, self._span_factory(m)) for m in msgs])
            except Exception as exc:
                log.info(
                    "batch rolled back; applying its events one by one",
                    extra={"events": len(msgs), "error": repr(exc)},
                )
                return False
        for msg in msgs:
            self._waiting.pop(self._key(msg), None)
            self.applied_total += 1
            with contextlib.suppress(Exception):
                await msg.ack()
        return True

    def _span_factory(self, msg: Msg) -> SpanFactory:
        def span() -> AbstractContextManager[object]:
            return tracer.start_as_current_span(
                "portal-actions apply",
                context=telemetry.extract(dict(msg.headers or {})),
                kind=trace.SpanKind.CONSUMER,
                attributes={"messaging.destination.name": msg.subject},
            )

        return span

    @staticmethod
    def _key(msg: Msg) -> str:
        return str(msg.metadata.sequence.stream) if msg.metadata else str(msg.reply)

    def _chains(self, msgs: list[Msg]) -> list[list[Msg]]:
        """One chain per resource, in version order: chains run side by side, a chain's events one by one.

        Without this, a batch holding v5..v20 of one busy group would apply v5 and put v6..v20 back to wait
        for their predecessors, one redelivery round each.
        """
        if self.order_key is None:
            return [[m] for m in msgs]
        chains: dict[object, list[tuple[int, Msg]]] = {}
        for i, msg in enumerate(msgs):
            key = self.order_key(msg.data)
            resource, version = key if key is not None else (f"unreadable-{i}", 0)
            chains.setdefault(resource, []).append((version, msg))
        return [[m for _, m in sorted(chain, key=lambda vm: vm[0])] for chain in chains.values()]

    async def _handle_chain(self, chain: list[Msg]) -> None:
        for msg in chain:
            await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        async with self.limit:
            with self._span_factory(msg)():
                await self._process(msg)

    def _stalled_for(self, key: str, pending: PredecessorPending) -> float:
        """Seconds the event's resource has not advanced while this event waited (0 on progress)."""
        now = asyncio.get_running_loop().time()
        if len(self._waiting) > 10_000:  # entries of events another replica went on to apply
            for stale in [k for k, (t, _) in self._waiting.items() if now - t > 2 * self.order_wait_s]:
                del self._waiting[stale]
        since, seen = self._waiting.get(key, (now, pending.applied_version))
        if pending.applied_version > seen:
            since = now
        self._waiting[key] = (since, pending.applied_version)
        return now - since

    async def _process(self, msg: Msg) -> None:
        key = self._key(msg)
        try:
            try:
                await self.handler(msg.data, True)
            except PredecessorPending as pending:
                stalled = self._stalled_for(key, pending)
                if stalled < self.order_wait_s:
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=min(0.2 + stalled / 5, 2.0))
                    return
                log.warning("predecessor never came; applying out of order", extra={"error": str(pending)})
                await self.handler(msg.data, False)
        except _INFRASTRUCTURE as exc:
            log.warning("dependency unavailable; event will be redelivered", extra={"error": str(exc)})
            with contextlib.suppress(Exception):
                await msg.nak(delay=1.0)
            return
        except Exception as exc:
            deliveries = msg.metadata.num_delivered if msg.metadata else 1
            if deliveries >= self.max_deliveries:
                log.error("event dead-lettered", extra={"subject": msg.subject, "error": repr(exc)})
                try:
                    await self.dead_letter(msg, repr(exc), deliveries)
                except Exception:
                    log.exception("dead-lettering failed; will retry")
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=1.0)
                    return
                self.dead_lettered_total += 1
                with contextlib.suppress(Exception):
                    await msg.term()
                return
            log.warning("event failed; will retry", extra={"error": repr(exc), "deliveries": deliveries})
            with contextlib.suppress(Exception):
                await msg.nak(delay=min(0.2 * 2**deliveries, 10.0))
            return
        self._waiting.pop(key, None)
        self.applied_total += 1
        with contextlib.suppress(Exception):
            await msg.ack()
