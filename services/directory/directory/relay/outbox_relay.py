"""Publishes outbox rows to JetStream, each with `Nats-Msg-Id` = event id, then deletes them.

Safe with several directory replicas: rows are claimed with FOR UPDATE SKIP LOCKED and only the oldest row
of each resource is claimable, so per-resource order holds. One statement claims and deletes a batch; its
publishes go out together (their acks awaited side by side) and the delete commits only once every ack is
in. A crash before the commit republishes the rows, and JetStream drops the repeats inside its duplicate
window. While NATS is down the transaction rolls back, rows wait, and the relay retries with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry import trace
from suite_common import streams, telemetry
from suite_common.db_statements import mark_work
from suite_common.nats_connect import connect_forever
from suite_common.pg_listen import listen_until
from suite_common.waiting import wait_or_timeout

from directory.adapters.postgres import outbox
from directory.service_layer.unit_of_work import transaction

log = logging.getLogger(__name__)
tracer = trace.get_tracer("directory.outbox_relay")


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        database_url: str,
        nats_url: str,
        *,
        stream: str,
        duplicate_window_s: float,
        subject_prefix: str = "scim",
        stream_replicas: int = 1,
        batch_size: int,
        poll_interval_s: float,
    ) -> None:
        self.pool = pool
        self.database_url = database_url
        self.nats_url = nats_url
        self.stream = stream
        self.names = streams.EventStreams(stream, subject_prefix, stream_replicas)
        self.duplicate_window_s = duplicate_window_s
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self.published_total = 0

    @property
    def nats_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def __aenter__(self) -> OutboxRelay:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        """Idempotent: stop claiming rows, finish the batch in flight, drain NATS."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        mark_work("relay")
        self._nc = await connect_forever(self.nats_url, self._stopping, "directory-outbox-relay")
        if self._nc is None:
            return
        self._js = self._nc.jetstream()
        listener = asyncio.create_task(self._listen())
        delay = 0.2
        try:
            while not self._stopping.is_set():
                try:
                    await streams.ensure_stream(
                        self._js,
                        self.stream,
                        [self.names.events_filter],
                        self.duplicate_window_s,
                        replicas=self.names.replicas,
                    )
                    break
                except Exception as exc:
                    log.warning("cannot ensure stream yet", extra={"error": str(exc)})
                    await self._sleep(delay)
                    delay = min(delay * 2, 5.0)
            delay = 0.2
            while not self._stopping.is_set():
                # Cleared before draining, not after: a commit notified while the batch is in flight must
                # wake the next round, or its row would wait a whole poll interval.
                self._wake.clear()
                try:
                    sent = await self.drain_once()
                    delay = 0.2
                except Exception as exc:
                    log.warning("outbox publish failed; rows kept for retry", extra={"error": str(exc)})
                    await self._sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                if sent < self.batch_size:
                    notified = await self._sleep(self.poll_interval_s, wakeable=True)
                    # Statement counts (suite_common.db_statements) tell the rounds commits asked for from
                    # the idle polls, which cost the same whether or not anything was written.
                    mark_work("relay" if notified else "relay-poll")
                else:
                    mark_work("relay")
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            with contextlib.suppress(Exception):
                await self._nc.drain()

    async def _sleep(self, seconds: float, wakeable: bool = False) -> bool:
        """True when woken (by a notification, or by shutdown) rather than by the timeout."""
        return await wait_or_timeout(self._wake if wakeable else self._stopping, seconds)

    async def _listen(self) -> None:
        """LISTEN for commits that wrote outbox rows: events leave within milliseconds, not a poll period."""
        await listen_until(
            self.database_url, outbox.NOTIFY_CHANNEL, lambda _payload: self._wake.set(), self._stopping
        )

    async def drain_once(self) -> int:
        assert self._js is not None
        async with transaction(self.pool) as conn:
            rows = await outbox.take_batch(conn, self.batch_size)
            if not rows:
                return 0
            await asyncio.gather(*(self._publish(row) for row in rows))
        self.published_total += len(rows)
        return len(rows)

    async def _publish(self, row: outbox.OutboxRow) -> None:
        assert self._js is not None
        carrier = {k: v for k, v in (("traceparent", row.traceparent), ("tracestate", row.tracestate)) if v}
        with tracer.start_as_current_span(
            "outbox publish",
            context=telemetry.extract(carrier),
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": row.subject,
                "messaging.message.id": row.event_id,
            },
        ):
            headers = {"Nats-Msg-Id": row.event_id}
            telemetry.inject(headers)
            await self._js.publish(
                self.names.event_subject(row.subject), row.payload, headers=headers, timeout=5.0
            )
