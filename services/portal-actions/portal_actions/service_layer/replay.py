"""Replaying dead letters, one by one or all: each event is applied as the consumer would apply it (once:
its id is recorded; never over a newer state: a stale one is dropped), in one transaction that also
removes it from the dead letters. One that fails again stays, with its new error."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from portal_actions.adapters.postgres import tracking
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import GuardPolicy
from portal_actions.service_layer.apply_event import apply_event
from portal_actions.service_layer.refs import NotFound


@dataclass(frozen=True)
class Replayed:
    event_id: str
    applied: bool
    error: str = ""
    actions: list[str] = field(default_factory=list)


class Replays:
    def __init__(self, pool: asyncpg.Pool, guard_defaults: GuardPolicy) -> None:
        self.pool = pool
        self.guard_defaults = guard_defaults

    async def replay(self, event_id: str) -> list[Replayed]:
        """`event_id` empty: every dead letter, oldest first."""
        async with self.pool.acquire() as conn:
            rows = await tracking.dead_letters_to_replay(conn, event_id.strip())
        if event_id.strip() and not rows:
            raise NotFound(f"no dead letter {event_id.strip()!r}")
        return [await self._one(r["event_id"], r["payload"]) for r in rows]

    async def _one(self, event_id: str, payload: bytes | None) -> Replayed:
        try:
            if payload is None:
                raise ValueError("the dead letter kept no payload")
            event = DirectoryEvent.decode(payload)
            async with self.pool.acquire() as conn, conn.transaction():
                if not await tracking.take_dead_letter(conn, event_id):
                    return Replayed(event_id, False, "already replayed")
                outcome = await apply_event(conn, event, guard_defaults=self.guard_defaults)
        except Exception as exc:  # the event's own failure is reported and kept, never raised to the admin
            async with self.pool.acquire() as conn:
                await tracking.note_replay_failure(conn, event_id, repr(exc)[:1000])
            return Replayed(event_id, False, repr(exc)[:1000])
        return Replayed(event_id, True, "", outcome.actions)
