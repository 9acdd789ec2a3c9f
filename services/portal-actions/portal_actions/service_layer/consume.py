"""The consumer's two callbacks: apply an event in one transaction, or record a dead-lettered one."""

from __future__ import annotations

import logging

import asyncpg
from scim_core.kinds import ResourceKind
from suite_common.logs import bind
from suite_common.metrics import new_registry

from portal_actions.adapters.postgres import Conn, audit, mirror, tracking
from portal_actions.domain.dead_letters import DeadLetter
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import DEFAULT_GUARD, GuardPolicy
from portal_actions.metrics import PortalMetrics
from portal_actions.service_layer.actions import cause_of
from portal_actions.service_layer.apply_event import apply_event

log = logging.getLogger(__name__)


class EventHandlers:
    def __init__(
        self,
        pool: asyncpg.Pool,
        metrics: PortalMetrics | None = None,
        guard_defaults: GuardPolicy = DEFAULT_GUARD,
    ) -> None:
        self.guard_defaults = guard_defaults
        self.pool = pool
        self.metrics = metrics or PortalMetrics(new_registry())

    async def apply(self, data: bytes, wait_for_predecessor: bool = False) -> None:
        event = DirectoryEvent.decode(data)
        bind(workspace=event.workspace_id, portal=event.portal, event_id=event.event_id)
        async with self.pool.acquire() as conn, conn.transaction():
            outcome = await apply_event(
                conn, event, wait_for_predecessor=wait_for_predecessor, guard_defaults=self.guard_defaults
            )
        if outcome.applied:
            self.metrics.applied(event.portal, outcome.actions)
        if outcome.applied and outcome.actions:
            log.info(
                "event applied",
                extra={
                    "event_id": event.event_id,
                    "event_type": event.event_type,
                    "workspace": event.workspace_id,
                    "portal": event.portal,
                    "actions": outcome.actions,
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
