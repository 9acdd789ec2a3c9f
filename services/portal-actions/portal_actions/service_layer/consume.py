"""The consumer's two callbacks: apply an event in one transaction, or dead-letter it."""

from __future__ import annotations

import logging

import asyncpg
from nats.aio.client import Client
from nats.aio.msg import Msg

from portal_actions.adapters.postgres import tracking
from portal_actions.domain.events import DirectoryEvent
from portal_actions.service_layer.apply_event import apply_event

log = logging.getLogger(__name__)


class EventHandlers:
    def __init__(self, pool: asyncpg.Pool, nc: Client) -> None:
        self.pool = pool
        self.nc = nc

    async def apply(self, data: bytes) -> None:
        event = DirectoryEvent.decode(data)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = 5000")
            outcome = await apply_event(conn, event)
        if outcome.applied and outcome.actions:
            log.info("event applied", extra={"event_id": event.event_id, "event_type": event.event_type,
                                             "workspace": event.workspace_id, "portal": event.portal,
                                             "actions": outcome.actions})

    async def dead_letter(self, msg: Msg, error: str, deliveries: int) -> None:
        event_id = (msg.headers or {}).get("Nats-Msg-Id", "") or f"seq-{msg.metadata.sequence.stream}"
        suffix = msg.subject.removeprefix("scim.events.")
        await self.nc.jetstream().publish(
            f"scim.deadletter.{suffix}", msg.data,
            headers={"Nats-Msg-Id": f"dlq-{event_id}", "Scim-Error": error[:1000], "Scim-Original-Subject": msg.subject},
        )
        async with self.pool.acquire() as conn:
            await tracking.record_dead_letter(conn, event_id, msg.subject, error, deliveries, msg.data)
