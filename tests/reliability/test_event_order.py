"""A directory event that reaches the portal before its predecessor waits for it, for a bounded time.

The fault test shows why: after a consumer is killed, its unacked events return only when their ack wait
expires, behind their successors; applied in that order, a deactivation followed by a reactivation lost
its removal. These tests pin the rule and the consumer's handling of it without a broker.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from portal_actions.adapters.nats.consumer import EventConsumer
from portal_actions.domain.ordering import PredecessorPending, require_predecessor


def test_only_the_next_version_or_an_older_one_may_be_applied() -> None:
    require_predecessor("r", 0, 1)  # the first event of a resource
    require_predecessor("r", 4, 5)  # the next one
    require_predecessor("r", 5, 3)  # stale: applied code drops it, it need not wait
    with pytest.raises(PredecessorPending):
        require_predecessor("r", 0, 2)
    with pytest.raises(PredecessorPending):
        require_predecessor("r", 4, 6)


class FakeMsg:
    def __init__(self, seq: int) -> None:
        self.data = b"event"
        self.subject = "events.store.user"
        self.headers: dict[str, str] = {}
        self.reply = f"reply-{seq}"
        self.metadata = SimpleNamespace(sequence=SimpleNamespace(stream=seq), num_delivered=1)
        self.naks: list[float | None] = []
        self.acks = 0

    async def nak(self, delay: float | None = None) -> None:
        self.naks.append(delay)

    async def ack(self) -> None:
        self.acks += 1

    async def term(self) -> None:
        raise AssertionError("an out-of-order event must never be terminated")


def consumer(handler: Any) -> EventConsumer:
    async def dead_letter(*_: Any) -> None:
        raise AssertionError("an out-of-order event must never be dead-lettered")

    return EventConsumer(
        None,  # type: ignore[arg-type]
        names=None,  # type: ignore[arg-type]
        durable="d",
        handler=handler,
        dead_letter=dead_letter,
        batch=1,
        max_deliveries=1,
        ack_wait_s=0.0,
        concurrency=1,
    )


async def test_an_early_event_is_put_back_then_applied_once_its_predecessor_is() -> None:
    waits: list[bool] = []
    applied = 1

    async def handler(data: bytes, wait: bool) -> None:
        waits.append(wait)
        if wait and applied < 2:
            raise PredecessorPending("r", applied, 3)

    c = consumer(handler)
    msg = FakeMsg(7)
    await c._process(msg)  # type: ignore[arg-type]
    await c._process(msg)  # type: ignore[arg-type]
    assert msg.naks and msg.acks == 0 and all(d is not None and d <= 2.0 for d in msg.naks)
    applied = 2
    await c._process(msg)  # type: ignore[arg-type]
    assert msg.acks == 1 and waits == [True, True, True]
    assert not c._waiting, "the wait record is dropped once the event is applied"


async def test_a_draining_chain_keeps_its_order_however_long_it_takes() -> None:
    """A resource that still advances (its earlier events arrive one redelivery at a time) keeps the
    event waiting, even past the bound: only a stall counts."""
    applied = 1
    waits: list[bool] = []

    async def handler(data: bytes, wait: bool) -> None:
        waits.append(wait)
        if wait:
            raise PredecessorPending("r", applied, 50)

    c = consumer(handler)
    msg = FakeMsg(8)
    key = str(msg.metadata.sequence.stream)
    for _ in range(5):
        await c._process(msg)  # type: ignore[arg-type]
        since, _ = c._waiting[key]
        c._waiting[key] = (since - c.order_wait_s, applied)  # much time passed...
        applied += 1  # ...but the resource advanced meanwhile
    assert waits == [True] * 5 and msg.acks == 0


async def test_a_predecessor_that_never_comes_stops_blocking_after_the_bound() -> None:
    waits: list[bool] = []

    async def handler(data: bytes, wait: bool) -> None:
        waits.append(wait)
        if wait:
            raise PredecessorPending("r", 1, 3)

    c = consumer(handler)
    msg = FakeMsg(9)
    await c._process(msg)  # type: ignore[arg-type]
    key = str(msg.metadata.sequence.stream)
    since, seen = c._waiting[key]
    c._waiting[key] = (since - c.order_wait_s - 1, seen)  # no progress for longer than the bound
    await c._process(msg)  # type: ignore[arg-type]
    assert waits == [True, True, False] and msg.acks == 1 and len(msg.naks) == 1
