"""A fetched batch is applied as one chain per resource, in version order, so a busy resource's events do
not wait a redelivery round each for their predecessors."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from portal_actions.adapters.nats.consumer import EventConsumer
from portal_actions.domain.events import DirectoryEvent
from scimsuite.events.v1 import events_pb2
from suite_common.streams import EventStreams


def _msg(resource: str, version: int, seq: int) -> Any:
    env = events_pb2.EventEnvelope(resource_id=resource, resource_version=version)
    msg = SimpleNamespace(
        data=env.SerializeToString(), subject="scim.events.store.group", headers={}, reply=""
    )
    msg.metadata = SimpleNamespace(sequence=SimpleNamespace(stream=seq), num_delivered=1)

    async def ack() -> None:
        msg.acked = True

    msg.ack = ack
    msg.acked = False
    return msg


def _consumer(handler: Any, order_key: Any) -> EventConsumer:
    return EventConsumer(
        SimpleNamespace(),  # type: ignore[arg-type]  # not used: no fetching in these tests
        names=EventStreams(),
        durable="test",
        handler=handler,
        dead_letter=lambda *_: asyncio.sleep(0),
        batch=64,
        max_deliveries=5,
        ack_wait_s=30.0,
        concurrency=8,
        order_key=order_key,
    )


def test_a_batch_becomes_one_version_ordered_chain_per_resource() -> None:
    consumer = _consumer(None, DirectoryEvent.order_key)
    batch = [_msg("g1", 3, 1), _msg("u1", 1, 2), _msg("g1", 1, 3), _msg("g1", 2, 4), _msg("u1", 2, 5)]
    chains = consumer._chains(batch)
    as_keys = sorted([[DirectoryEvent.order_key(m.data) for m in chain] for chain in chains])
    assert as_keys == [[("g1", 1), ("g1", 2), ("g1", 3)], [("u1", 1), ("u1", 2)]]


async def test_a_chain_applies_in_order_and_acks_each_event() -> None:
    applied: list[tuple[str, int] | None] = []

    async def handler(data: bytes, wait_for_predecessor: bool) -> None:
        applied.append(DirectoryEvent.order_key(data))

    consumer = _consumer(handler, DirectoryEvent.order_key)
    batch = [_msg("g1", v, v) for v in (5, 2, 4, 1, 3)]
    for chain in consumer._chains(batch):
        await consumer._handle_chain(chain)
    assert applied == [("g1", v) for v in (1, 2, 3, 4, 5)]
    assert all(m.acked for m in batch)


def _batching_consumer(handler: Any, batch_handler: Any) -> EventConsumer:
    consumer = _consumer(handler, DirectoryEvent.order_key)
    consumer.batch_handler = batch_handler
    return consumer


def _nakable(msg: Any) -> Any:
    async def nak(delay: float = 0.0) -> None:
        msg.nakked = True

    msg.nak = nak
    msg.nakked = False
    return msg


async def test_a_fetched_batch_is_applied_together_in_version_order_and_acked() -> None:
    together: list[list[tuple[str, int] | None]] = []
    one_by_one: list[bytes] = []

    async def batch_handler(batch: Any) -> None:
        together.append([DirectoryEvent.order_key(data) for data, _ in batch])

    async def handler(data: bytes, wait_for_predecessor: bool) -> None:
        one_by_one.append(data)

    consumer = _batching_consumer(handler, batch_handler)
    batch = [_msg("g1", 2, 1), _msg("u1", 1, 2), _msg("g1", 1, 3)]
    await consumer._apply_fetched(batch)
    assert together == [[("g1", 1), ("g1", 2), ("u1", 1)]]
    assert one_by_one == []
    assert all(m.acked for m in batch) and consumer.applied_total == 3


async def test_a_batch_that_fails_is_applied_one_by_one_so_only_the_poisoned_event_retries() -> None:
    applied: list[tuple[str, int] | None] = []
    tried_together = 0

    async def batch_handler(batch: Any) -> None:
        nonlocal tried_together
        tried_together += 1
        raise ValueError("one event of the batch is poisoned")

    async def handler(data: bytes, wait_for_predecessor: bool) -> None:
        key = DirectoryEvent.order_key(data)
        if key == ("u2", 1):
            raise ValueError("poisoned")
        applied.append(key)

    consumer = _batching_consumer(handler, batch_handler)
    batch = [_nakable(m) for m in (_msg("u1", 1, 1), _msg("u2", 1, 2), _msg("u3", 1, 3))]
    await consumer._apply_fetched(batch)
    assert tried_together == 1
    assert sorted(k for k in applied if k) == [("u1", 1), ("u3", 1)]
    assert [m.acked for m in batch] == [True, False, True]
    assert [m.nakked for m in batch] == [False, True, False]  # redelivered, dead-lettered after max tries


async def test_a_single_event_skips_the_batch_transaction() -> None:
    applied: list[bytes] = []
    together: list[Any] = []

    async def batch_handler(batch: Any) -> None:
        together.append(batch)

    async def handler(data: bytes, wait_for_predecessor: bool) -> None:
        applied.append(data)

    consumer = _batching_consumer(handler, batch_handler)
    msg = _msg("u1", 1, 1)
    await consumer._apply_fetched([msg])
    assert applied == [msg.data] and msg.acked
    assert together == []
