"""portal-actions series: actions applied per portal and kind, dead letters, the consumer's lag, and the
actions the mass-deactivation guard holds.

Lag comes from JetStream itself (`num_pending` of the durable consumer: events stored but not yet
delivered to any replica), so every replica reports the same figure; dashboards take `max()` across them.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import CollectorRegistry, Counter, Gauge


class PortalMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._held_labels: set[tuple[str, str]] = set()
        self.events_applied = Counter(
            "portal_events_applied",
            "Directory events applied (first deliveries; repeats are not counted), by portal.",
            ["portal"],
            registry=registry,
        )
        self.actions_applied = Counter(
            "portal_actions_applied",
            "Portal actions applied, by portal and kind of action (create-employee, remove, ...).",
            ["portal", "action"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "portal_dead_letters",
            "Events moved to the dead-letter stream after repeated failures, by portal.",
            ["portal"],
            registry=registry,
        )
        self.pending = Gauge(
            "portal_consumer_pending_messages",
            "Events in the stream not yet delivered to the durable consumer (consumer lag).",
            registry=registry,
        )
        self.ack_pending = Gauge(
            "portal_consumer_ack_pending_messages",
            "Events delivered to a replica but not yet acknowledged.",
            registry=registry,
        )

        self.held = Gauge(
            "portal_guard_held_actions",
            "Destructive actions the mass-deactivation guard holds, per connection; above 0 the connection "
            "is held until an admin releases or discards them.",
            ["workspace", "portal"],
            registry=registry,
        )

    def held_now(self, per_connection: list[tuple[str, str, int]]) -> None:
        """Every connection's held count; connections no longer held drop back to 0."""
        seen = {(ws, portal) for ws, portal, _ in per_connection}
        for labels in list(self._held_labels - seen):
            self.held.labels(*labels).set(0)
        for ws, portal, n in per_connection:
            self.held.labels(ws, portal).set(n)
        self._held_labels = self._held_labels | seen

    def applied(self, portal: str, actions: list[str]) -> None:
        self.events_applied.labels(portal).inc()
        for action in actions:
            self.actions_applied.labels(portal, action).inc()

    def dead_lettered(self, subject: str) -> None:
        # Subjects are <prefix>.events.<portal>.<kind>; anything else is counted under "unknown".
        parts = subject.split(".")
        at = len(parts) - 1 - parts[::-1].index("events") if "events" in parts else len(parts)
        self.dead_letters.labels(parts[at + 1] if at + 1 < len(parts) else "unknown").inc()

    async def sample_lag(self, js: JetStreamContext, stream: str, durable: str) -> None:
        try:
            info = await js.consumer_info(stream, durable)
        except NotFoundError:
            return  # not created yet: the consumer subscribes a moment after start
        self.pending.set(info.num_pending or 0)
        self.ack_pending.set(info.num_ack_pending or 0)
