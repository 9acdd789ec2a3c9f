"""security-events series, per receiver: SETs built, delivered, retried, refused, dead-lettered, and lag.

Lag is the age of the receiver's oldest pending SET, read from the database, so every replica reports the
same figure; dashboards take `max()` across replicas. Delivery latency (SET built -> receiver accepted)
is a histogram per receiver.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class SetMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.built = Counter(
            "security_events_sets_built", "SETs built from directory events.", ["receiver"], registry=registry
        )
        self.consumed = Counter(
            "security_events_events_consumed",
            "Directory events consumed (their SETs, if any receiver wanted them, committed).",
            registry=registry,
        )
        self.delivered = Counter(
            "security_events_sets_delivered",
            "SETs the receiver accepted (push 202, poll ack).",
            ["receiver"],
            registry=registry,
        )
        self.retried = Counter(
            "security_events_sets_retried",
            "Push attempts that will be retried (5xx, 429, timeout, connection or protocol error).",
            ["receiver"],
            registry=registry,
        )
        self.failed = Counter(
            "security_events_sets_failed",
            "SETs the receiver refused with an RFC 8935 error (push 400, poll setErrs).",
            ["receiver", "err"],
            registry=registry,
        )
        self.dead = Counter(
            "security_events_sets_dead",
            "SETs not delivered within the receiver's dead-letter bound.",
            ["receiver"],
            registry=registry,
        )
        self.lag = Gauge(
            "security_events_receiver_lag_seconds",
            "Age of the receiver's oldest pending SET.",
            ["receiver"],
            registry=registry,
        )
        self.delivery_seconds = Histogram(
            "security_events_delivery_seconds",
            "From a SET being built to the receiver accepting it.",
            ["receiver"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300),
            registry=registry,
        )
