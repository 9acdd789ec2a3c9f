"""Consume directory events: build, sign and store their SETs for every subscribed receiver.

A group of events (the consumer hands over a fetched batch, split by resource) is consumed in one
transaction, each event inside its own savepoint: its SETs and its id commit together with the group, and
only then are the messages acked. A redelivered event finds its id recorded and writes nothing (exactly one
SET per receiver per `txn`). One transaction per group rather than per event is what makes the rate: the
commit (an fsync) is paid once per group.

A resource's events are taken in version order (the notice diff and the activation flip compare with the
previous state): one whose predecessor has not been consumed comes back as `WAITING`, and the consumer puts
it back; the resource's later events in the same group wait with it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from suite_common.pg import CONNECTION_ERRORS

from security_events.adapters.postgres import Conn, consumption, sets
from security_events.adapters.postgres.keys import KeyStore
from security_events.adapters.postgres.streams import Subscriber
from security_events.domain.directory_event import DirectoryEvent
from security_events.domain.set_claims import Audience, set_claims
from security_events.metrics import SetMetrics
from security_events.service_layer.receivers_cache import ReceiversCache, Where

log = logging.getLogger(__name__)
CONSUMED, WAITING, FAILED = "consumed", "waiting", "failed"


@dataclass(frozen=True)
class Outcome:
    kind: str
    error: str = ""
    seen: int = 0  # WAITING: the version consumed so far


class SetBuilder:
    def __init__(
        self,
        pool: asyncpg.Pool,
        keys: KeyStore,
        public_base_url: str,
        metrics: SetMetrics,
        receivers: ReceiversCache,
    ) -> None:
        self.pool = pool
        self.keys = keys
        self.public_base_url = public_base_url
        self.metrics = metrics
        self.receivers = receivers

    def base_url(self, connection_id: str) -> str:
        """The connection's SCIM base URI (RFC 7644 §1.3), which is also the SETs' issuer."""
        return f"{self.public_base_url}/scim/v2/{connection_id}"

    async def apply_group(self, items: list[tuple[bytes, bool]]) -> list[Outcome]:
        """Consume (event, wait for its predecessor) pairs in order, in one transaction.

        Set-based: a handful of statements per group whatever its size (lock the resources' last states,
        drop events already consumed, store the SETs, record the ids, remember the states). Building and
        signing happen in between, per event; an event that cannot be built fails alone, and its
        resource's later events in the group wait. Raises only for a database failure, or when another
        replica consumed one of the events meanwhile (then nothing of the group committed).
        """
        outcomes: list[Outcome | None] = [None] * len(items)
        events: list[tuple[int, DirectoryEvent, bool]] = []
        for i, (data, wait) in enumerate(items):
            try:
                events.append((i, DirectoryEvent.decode(data), wait))
            except Exception as exc:
                outcomes[i] = Outcome(FAILED, f"undecodable event: {exc!r}")
        built: list[str] = []
        if events:
            routes = await self._routes({(e.workspace_id, e.portal) for _, e, _ in events})
            if not any(routes.values()):
                await self._remember_only(events)
            else:
                async with self.pool.acquire() as conn, conn.transaction():
                    built = await self._consume_group(conn, events, outcomes, routes)
        for receiver_id in built:
            self.metrics.built.labels(receiver_id).inc()
        done = [o if o is not None else Outcome(CONSUMED) for o in outcomes]
        self.metrics.consumed.inc(sum(o.kind == CONSUMED for o in done))
        return done

    async def _routes(self, wheres: set[Where]) -> dict[Where, tuple[Subscriber, ...]]:
        routes = {where: self.receivers.get(where) for where in wheres}
        missing = [where for where, found in routes.items() if found is None]
        if missing:
            async with self.pool.acquire() as conn:
                for where in missing:
                    routes[where] = await self.receivers.receivers(conn, where)
        return {where: found or () for where, found in routes.items()}

    async def _remember_only(self, events: list[tuple[int, DirectoryEvent, bool]]) -> None:
        """No receiver wants any of these changes: keep only each resource's newest state, in one statement.

        Nothing is built, so there is nothing to make exactly-once and no order to wait for: the newest
        version wins whatever order the events come in. What is kept is what a stream created later diffs
        its first notice against and tells an activation flip by; an event redelivered after that is older
        than the kept version and is consumed without SETs, as superseded.
        """
        newest: dict[str, tuple[int, dict[str, Any] | None]] = {}
        for _, event, _ in events:
            if event.version > newest.get(event.resource_id, (0, None))[0]:
                newest[event.resource_id] = (event.version, event.state)
        await consumption.remember_newest(self.pool, newest)

    async def _consume_group(
        self,
        conn: Conn,
        events: list[tuple[int, DirectoryEvent, bool]],
        outcomes: list[Outcome | None],
        routes: dict[Where, tuple[Subscriber, ...]],
    ) -> list[str]:
        states = await consumption.last_seen_many(conn, sorted({e.resource_id for _, e, _ in events}))
        done = await consumption.already_consumed(conn, [e.event_id for _, e, _ in events])
        held: dict[str, int] = {}
        consumed: list[str] = []
        rows: list[tuple[str, str, str, str, str]] = []
        changed: dict[str, tuple[int, dict[str, Any] | None]] = {}
        issued_at = int(time.time())
        for i, event, wait in events:
            if event.event_id in done:
                continue  # a redelivery: its SETs exist
            seen_version, before = states.get(event.resource_id, (0, None))
            if event.resource_id in held or (wait and event.version > seen_version + 1):
                held.setdefault(event.resource_id, seen_version)
                outcomes[i] = Outcome(WAITING, seen=held[event.resource_id])
                continue
            consumed.append(event.event_id)
            if event.version <= seen_version:
                continue  # older than what was already turned into SETs: its state is superseded
            try:
                rows_of_event = []
                base = self.base_url(event.connection_id)
                for receiver in routes[(event.workspace_id, event.portal)]:
                    audience = Audience(base, receiver.audience, receiver.events)
                    claims = set_claims(event, before, audience, base, issued_at)
                    if claims is None:
                        continue
                    key = self.keys.opened(receiver.kid, receiver.alg, receiver.sealed_key)
                    token = key.sign(claims)
                    rows_of_event.append(
                        (receiver.id, claims["jti"], claims["txn"], claims["sub_id"]["uri"], token)
                    )
            except CONNECTION_ERRORS:
                raise
            except Exception as exc:
                log.warning("event failed", extra={"event_id": event.event_id, "error": repr(exc)})
                consumed.pop()
                held[event.resource_id] = seen_version
                outcomes[i] = Outcome(FAILED, repr(exc))
                continue
            rows.extend(rows_of_event)
            states[event.resource_id] = changed[event.resource_id] = (event.version, event.state)
        if consumed and await consumption.record_consumed(conn, consumed) != len(consumed):
            raise ConsumedElsewhere("another replica consumed some of these events meanwhile")
        built = await sets.insert_many(conn, rows) if rows else []
        if changed:
            await consumption.remember_many(conn, changed)
        return built


class ConsumedElsewhere(Exception):
    """Raced with another replica on the same events; the group is rolled back and redelivered."""
