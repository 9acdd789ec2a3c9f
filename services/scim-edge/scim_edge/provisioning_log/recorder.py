"""A bounded in-memory queue of SCIM requests, flushed in batches to the directory.

The request path only appends to the queue (`offer`, O(1), never awaits). The queue is bounded in records
and in the body bytes it holds (bodies over the parse limit are not held at all). When it is full, or the
directory cannot take a batch, records are dropped and counted (`scim_request_log_dropped_total`): the
log never blocks, slows or fails a SCIM request. Parsing, redaction and truncation happen in the flusher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge
from scimsuite.console.v1 import console_pb2, console_pb2_grpc

from scim_edge.provisioning_log.record import Seen, build

log = logging.getLogger(__name__)
PATH_PREFIX = "/scim/v2"


class RecorderMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.dropped = Counter(
            "scim_request_log_dropped",
            "Provisioning-log records dropped: queue full, or the directory refused a batch.",
            ["reason"],
            registry=registry,
        )
        self.sent = Counter(
            "scim_request_log_sent", "Provisioning-log records sent to the directory.", registry=registry
        )
        self.queued = Gauge(
            "scim_request_log_queued", "Provisioning-log records waiting to be sent.", registry=registry
        )


class RequestLogRecorder:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        metrics: RecorderMetrics,
        *,
        capacity: int,
        batch_size: int,
        body_max_bytes: int,
        parse_limit: int,
        rpc_timeout_s: float,
        linger_s: float = 0.25,
        max_queued_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.stub = console_pb2_grpc.RequestLogIngestStub(channel)
        self.metrics = metrics
        self.capacity = capacity
        self.batch_size = batch_size
        self.body_max_bytes = body_max_bytes
        self.parse_limit = parse_limit
        self.rpc_timeout_s = rpc_timeout_s
        self.linger_s = linger_s
        self.max_queued_bytes = max_queued_bytes
        self._queued_bytes = 0
        self._queue: deque[Seen] = deque()
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._stopping = False

    def hold(self, body: bytes) -> tuple[bytes, int]:
        """What of a body to keep in the queue: nothing of one too large to be logged, only its size."""
        return (b"" if len(body) > self.parse_limit else body), len(body)

    def offer(self, seen: Seen) -> None:
        """Called on the request path: append, or drop and count when full. Never raises, never waits."""
        size = seen.held_bytes
        if len(self._queue) >= self.capacity or self._queued_bytes + size > self.max_queued_bytes:
            self.metrics.dropped.labels("queue_full").inc()
            return
        self._queued_bytes += size
        self._queue.append(seen)
        self._wake.set()
        if len(self._queue) >= self.batch_size:
            self._full.set()

    def _take(self) -> list[Seen]:
        batch: list[Seen] = []
        while self._queue and len(batch) < self.batch_size:
            seen = self._queue.popleft()
            self._queued_bytes -= seen.held_bytes
            batch.append(seen)
        return batch

    async def _send(self, batch: list[Seen]) -> None:
        records = []
        for seen in batch:
            try:
                records.append(build(seen, PATH_PREFIX, self.body_max_bytes, self.parse_limit))
            except Exception:  # one odd record must not lose the batch
                log.exception("provisioning-log record could not be built")
                self.metrics.dropped.labels("unbuildable").inc()
            # Yield between records so that building a large batch never holds up request handling.
            await asyncio.sleep(0)
        if not records:
            return
        try:
            await self.stub.RecordRequests(
                console_pb2.RecordRequestsRequest(records=records), timeout=self.rpc_timeout_s
            )
            self.metrics.sent.inc(len(records))
        except grpc.aio.AioRpcError as exc:
            self.metrics.dropped.labels("directory_unavailable").inc(len(records))
            log.warning(
                "provisioning-log batch dropped",
                extra={"records": len(records), "code": exc.code().name},
            )

    async def run(self) -> None:
        while True:
            self.metrics.queued.set(len(self._queue))
            if not self._queue:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            # Linger a moment so a batch gathers: one INSERT per batch, not per request, is what keeps
            # the log's cost on the directory and PostgreSQL small.
            if len(self._queue) < self.batch_size and not self._stopping:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.linger_s)
            await self._send(self._take())

    async def stop(self, task: asyncio.Task[None], grace_s: float) -> None:
        """Send what is queued (for at most `grace_s`), then stop the flusher `task`."""
        self._stopping = True
        self._wake.set()
        self._full.set()
        try:
            await asyncio.wait_for(task, grace_s)
        except TimeoutError:
            self.metrics.dropped.labels("shutdown").inc(len(self._queue))
        with contextlib.suppress(asyncio.CancelledError):
            await task
