"""Outbox series: how many events wait, how old the oldest is, and how many this replica published.

Every replica samples the same table, so dashboards take `max()` of the backlog gauges across replicas
and `sum()` of the published counter.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from directory.adapters.postgres import outbox
from directory.relay.outbox_relay import OutboxRelay


class _Published(Collector):
    """Reads the relay's own count at scrape time, so the relay needs no metrics code of its own."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay = relay

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "directory_outbox_published",
            "Outbox events this replica published to NATS.",
            value=self.relay.published_total,
        )


class OutboxMetrics:
    def __init__(self, registry: CollectorRegistry, pool: asyncpg.Pool, relay: OutboxRelay) -> None:
        self.pool = pool
        self.backlog = Gauge(
            "directory_outbox_backlog", "Outbox events committed but not yet published.", registry=registry
        )
        self.oldest_age = Gauge(
            "directory_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox event (0 when empty).",
            registry=registry,
        )
        registry.register(_Published(relay))

    async def sample(self) -> None:
        async with self.pool.acquire() as conn:
            count, age = await outbox.backlog(conn)
        self.backlog.set(count)
        self.oldest_age.set(age)
