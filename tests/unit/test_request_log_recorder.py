"""The edge's provisioning-log queue never blocks: when full, records are dropped and counted."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry
from scim_edge.provisioning_log.record import Seen
from scim_edge.provisioning_log.recorder import RecorderMetrics, RequestLogRecorder


def _seen(i: int) -> Seen:
    return Seen("c", 0.0, 1.0, f"r{i}", "GET", "/Users", "", 200, "", b"", b"", b"")


async def test_a_full_queue_drops_and_counts() -> None:
    registry = CollectorRegistry()
    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # never used: nothing is flushed here
    recorder = RequestLogRecorder(
        channel,
        RecorderMetrics(registry),
        capacity=3,
        batch_size=2,
        body_max_bytes=100,
        parse_limit=1000,
        rpc_timeout_s=1.0,
    )
    for i in range(5):
        recorder.offer(_seen(i))
    assert registry.get_sample_value("scim_request_log_dropped_total", {"reason": "queue_full"}) == 2.0
    assert [s.request_id for s in recorder._take()] == ["r0", "r1"]
    await channel.close(None)


async def test_a_batch_the_directory_cannot_take_is_dropped_and_counted() -> None:
    registry = CollectorRegistry()
    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # the discard port: nothing listens on loopback
    recorder = RequestLogRecorder(
        channel,
        RecorderMetrics(registry),
        capacity=10,
        batch_size=10,
        body_max_bytes=100,
        parse_limit=1000,
        rpc_timeout_s=1.0,
    )
    await recorder._send([_seen(1), _seen(2)])
    assert (
        registry.get_sample_value("scim_request_log_dropped_total", {"reason": "directory_unavailable"})
        == 2.0
    )
    await channel.close(None)


async def test_the_queue_is_bounded_in_bytes_and_never_holds_oversized_bodies() -> None:
    registry = CollectorRegistry()
    channel = grpc.aio.insecure_channel("127.0.0.1:9")
    recorder = RequestLogRecorder(
        channel,
        RecorderMetrics(registry),
        capacity=100,
        batch_size=10,
        body_max_bytes=100,
        parse_limit=1000,
        rpc_timeout_s=1.0,
        max_queued_bytes=2500,
    )
    held, size = recorder.hold(b"x" * 5000)
    assert (held, size) == (b"", 5000)  # too large to log: only its size is kept
    body = b"y" * 900
    for i in range(3):
        recorder.offer(Seen("c", 0.0, 1.0, f"r{i}", "POST", "/Users", "", 201, "", b"", body, b""))
    assert registry.get_sample_value("scim_request_log_dropped_total", {"reason": "queue_full"}) == 1.0
    recorder._take()
    recorder.offer(Seen("c", 0.0, 1.0, "r9", "POST", "/Users", "", 201, "", b"", body, b""))
    assert registry.get_sample_value("scim_request_log_dropped_total", {"reason": "queue_full"}) == 1.0
    await channel.close(None)
