"""The consumer's two callbacks: apply an event in one transaction, or dead-letter it."""

from __future__ import annotations

import logging

import asyncpg
from nats.aio.client import Client
from nats.aio.msg import Msg
from suite_common.logs import bind
from suite_common.metrics import new_registry
from suite_common.streams import EventStreams

from portal_actions.adapters.postgres import Conn, audit, mirror, tracking
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
        nc: Client,
        names: EventStreams,
        metrics: PortalMetrics | None = None,
        guard_defaults: GuardPolicy = DEFAULT_GUARD,
    ) -> None:
        self.guard_defaults = guard_defaults
        self.pool = pool
        self.nc = nc
        self.names = names
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

    async def dead_letter(self, msg: Msg, error: str, deliveries: int) -> None:
        event_id = (msg.headers or {}).get("Nats-Msg-Id", "") or f"seq-{msg.metadata.sequence.stream}"
        await self.nc.jetstream().publish(
            self.names.dead_letter_subject(self.names.suffix_of(msg.subject)),
            msg.data,
            headers={
                "Nats-Msg-Id": f"dlq-{event_id}",
                "Scim-Error": error[:1000],
                "Scim-Original-Subject": msg.subject,
            },
        )
        async with self.pool.acquire() as conn, conn.transaction():
            await tracking.record_dead_letter(conn, event_id, msg.subject, error, deliveries, msg.data)
            await _audit_failure(conn, msg.data, error)
        self.metrics.dead_lettered(msg.subject)


async def _audit_failure(conn: Conn, data: bytes, error: str) -> None:
    """A failed event shows in the portal's audit with its reason, next to the user it concerned."""
    try:
        event = DirectoryEvent.decode(data)
    except Exception:
        return
    user_id = event.resource_id if event.kind == "User" else None
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
