"""The consumer's callbacks: apply one event in a transaction, a fetched batch of events in one
transaction, or record a dead-lettered event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import asyncpg
from scim_core.kinds import ResourceKind
from suite_common.log_sampling import SuccessSampler
from suite_common.logs import bind
from suite_common.metrics import new_registry

from portal_actions.adapters.postgres import Conn, audit, held_locks, holds, mirror, tracking
from portal_actions.domain.dead_letters import DeadLetter
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import DEFAULT_GUARD, GuardPolicy
from portal_actions.metrics import PortalMetrics
from portal_actions.service_layer.actions import cause_of
from portal_actions.service_layer.apply_event import Outcome, apply_event
from portal_actions.service_layer.configuration_reads import DIRECT, ConfigurationReads

log = logging.getLogger(__name__)


class EventHandlers:
    def __init__(
        self,
        pool: asyncpg.Pool,
        metrics: PortalMetrics | None = None,
        guard_defaults: GuardPolicy = DEFAULT_GUARD,
        config: ConfigurationReads = DIRECT,
        log_every: int = 1,
    ) -> None:
        """`config`: the connections' behaviours and attribute mappings (a per-replica cache in the
        service, the database in each transaction by default). `log_every`: an "event applied" line at
        INFO for the first and every n-th event of each type (`suite_common.log_sampling`); the audit
        records every action."""
        self.log_sampler = SuccessSampler(log_every)
        self.guard_defaults = guard_defaults
        self.pool = pool
        self.metrics = metrics or PortalMetrics(new_registry())
        self.config = config

    async def apply(self, data: bytes, wait_for_predecessor: bool = False) -> None:
        event = DirectoryEvent.decode(data)
        bind(workspace=event.workspace_id, portal=event.portal, event_id=event.event_id)
        async with self.pool.acquire() as conn, conn.transaction():
            outcome = await apply_event(
                conn,
                event,
                wait_for_predecessor=wait_for_predecessor,
                guard_defaults=self.guard_defaults,
                config=self.config,
            )
        self._applied(event, outcome)

    async def apply_batch(
        self, batch: Sequence[tuple[bytes, Callable[[], AbstractContextManager[object]]]]
    ) -> None:
        """Apply events in one transaction, in the order given, each after its predecessor
        (`domain.ordering`); each runs inside the context its `span` factory gives (its trace span).

        Any failure rolls every one of them back and is raised: the consumer then applies them one by one,
        so that a failing event alone is retried or dead-lettered. Each event is still recorded as applied
        in the transaction that applies it, so a batch is applied exactly once or not at all.
        """
        events = [(DirectoryEvent.decode(data), span) for data, span in batch]
        outcomes: list[tuple[DirectoryEvent, Outcome]] = []
        # Every resource's lock first, in one statement and one global order (no deadlock between
        # replicas' batches), with the guard lock of each connection a deactivation may be counted
        # against; then each event records itself and its mirror row in one statement.
        keys = [(mirror.lock_class(e.kind), e.resource_id) for e, _ in events]
        keys += {holds.guard_key(e.workspace_id, e.portal) for e, _ in events if e.may_deactivate}
        async with self.pool.acquire() as conn, conn.transaction(), audit.deferred(conn):
            await mirror.lock_all(conn, keys)
            with held_locks.holding(keys):
                for event, span in events:
                    bind(workspace=event.workspace_id, portal=event.portal, event_id=event.event_id)
                    with span():
                        outcome = await apply_event(
                            conn,
                            event,
                            wait_for_predecessor=True,
                            guard_defaults=self.guard_defaults,
                            config=self.config,
                            locked=True,
                        )
                    outcomes.append((event, outcome))
        for event, outcome in outcomes:
            self._applied(event, outcome)

    def _applied(self, event: DirectoryEvent, outcome: Outcome) -> None:
        if outcome.applied:
            self.metrics.applied(event.portal, outcome.actions)
        if not (outcome.applied and outcome.actions):
            return
        level = self.log_sampler.level(event.event_type)
        if log.isEnabledFor(level):
            log.log(
                level,
                "event applied",
                extra={
                    "event_id": event.event_id,
                    "event_type": event.event_type,
                    "workspace": event.workspace_id,
                    "portal": event.portal,
                    "actions": outcome.actions,
                    **self.log_sampler.fields(),
                },
            )

    async def dead_letter(self, letter: DeadLetter) -> None:
        """Record an event the consumer gave up on, and show the failure in the portal's audit."""
        async with self.pool.acquire() as conn, conn.transaction():
            await tracking.record_dead_letter(
                conn, letter.event_id, letter.subject, letter.error, letter.deliveries, letter.data
            )
            await _audit_failure(conn, letter.data, letter.error)
        self.metrics.dead_lettered(letter.subject)


async def _audit_failure(conn: Conn, data: bytes, error: str) -> None:
    """A failed event shows in the portal's audit with its reason, next to the user it concerned."""
    try:
        event = DirectoryEvent.decode(data)
    except Exception:
        return
    user_id = event.resource_id if event.kind == ResourceKind.USER else None
    user_name = None
    if user_id is not None:
        user_name = (
            await mirror.user_name_of(conn, user_id) or str((event.state or {}).get("userName") or "") or None
        )
    await audit.record(
        conn,
        cause_of(event),
        action="apply-event",
        result="failed",
        detail=error[:1000],
        user_id=user_id,
        user_name=user_name,
    )
