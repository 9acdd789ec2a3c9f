"""Consume one directory event: build, sign and store its SETs for every subscribed receiver.

All of it commits in one transaction together with the consumed event's id, and only then is the message
acked: a redelivered event finds its id recorded and writes nothing (exactly one SET per receiver per
`txn`). A resource's events are taken in version order (the notice diff and the activation flip compare
with the previous state); one that arrives before its predecessor is put back (`PredecessorPending`).
"""

from __future__ import annotations

import logging
import time

import asyncpg
from suite_common.logs import bind

from security_events.adapters.postgres import consumption, sets, streams
from security_events.adapters.postgres.keys import KeyStore
from security_events.domain.directory_event import DirectoryEvent
from security_events.domain.set_claims import Audience, set_claims
from security_events.metrics import SetMetrics

log = logging.getLogger(__name__)


class PredecessorPending(Exception):
    """The resource's previous version has not been consumed yet; redeliver this event shortly."""

    def __init__(self, resource_id: str, seen: int, version: int) -> None:
        super().__init__(f"{resource_id}: version {version} waits for {seen + 1}")
        self.seen = seen


class SetBuilder:
    def __init__(self, pool: asyncpg.Pool, keys: KeyStore, public_base_url: str, metrics: SetMetrics) -> None:
        self.pool = pool
        self.keys = keys
        self.public_base_url = public_base_url
        self.metrics = metrics

    def base_url(self, connection_id: str) -> str:
        """The connection's SCIM base URI (RFC 7644 §1.3), which is also the SETs' issuer."""
        return f"{self.public_base_url}/scim/v2/{connection_id}"

    async def apply(self, data: bytes, wait_for_predecessor: bool = True) -> None:
        event = DirectoryEvent.decode(data)
        bind(workspace=event.workspace_id, portal=event.portal, event_id=event.event_id)
        built: list[str] = []
        async with self.pool.acquire() as conn, conn.transaction():
            seen = await consumption.last_seen(conn, event.resource_id)
            seen_version = seen[0] if seen else 0
            if wait_for_predecessor and event.version > seen_version + 1:
                raise PredecessorPending(event.resource_id, seen_version, event.version)
            if not await consumption.first_consumption(conn, event.event_id):
                return
            if event.version <= seen_version:
                return  # older than what was already turned into SETs: its state is superseded
            before = seen[1] if seen else None
            base = self.base_url(event.connection_id)
            issued_at = int(time.time())
            for receiver in await streams.receivers_for(conn, event.workspace_id, event.portal):
                audience = Audience(base, receiver["audience"], tuple(receiver["events"]))
                claims = set_claims(event, before, audience, base, issued_at)
                if claims is None:
                    continue
                key = await self.keys.active(conn, receiver["stream_id"])
                receiver_id = str(receiver["id"])
                if await sets.insert(
                    conn, receiver_id, claims["jti"], claims["txn"], claims["sub_id"]["uri"], key.sign(claims)
                ):
                    built.append(receiver_id)
            await consumption.remember(conn, event.resource_id, event.version, event.state)
        for receiver_id in built:
            self.metrics.built.labels(receiver_id).inc()
