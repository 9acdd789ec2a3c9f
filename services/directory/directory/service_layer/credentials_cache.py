"""A per-replica cache of authenticated bearer tokens, so a SCIM request costs one database round trip.

A cached entry is only trusted while this replica is LISTENing on `directory_credentials`: every change
to a token or connection (rotation, revocation, disabling SCIM) notifies all replicas, which drop their
whole cache, so revocation still takes effect at once. Without a live LISTEN connection the cache is
bypassed. Entries also expire after `ttl_s` and never outlive the token's own `expires_at`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from suite_common.pg_listen import listen_until

from directory.domain.tenancy import ConnectionContext

CHANNEL = "directory_credentials"


@dataclass(frozen=True)
class _Entry:
    context: ConnectionContext
    valid_until: float  # time.monotonic()


class CredentialsCache:
    def __init__(self, database_url: str, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        self.database_url = database_url
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[bytes, _Entry] = {}
        # Bumped by every invalidation: a lookup that started before a change must not cache what it read.
        self.generation = 0
        self._listening = False
        self._stopping = asyncio.Event()

    def get(self, token_digest: bytes) -> ConnectionContext | None:
        if not self._listening:
            return None
        entry = self._entries.get(token_digest)
        if entry is None:
            return None
        if entry.valid_until <= time.monotonic():
            self._entries.pop(token_digest, None)
            return None
        return entry.context

    def put(
        self, token_digest: bytes, context: ConnectionContext, expires_in_s: float | None, generation: int
    ) -> None:
        """Cache a lookup that began at `generation`; dropped if credentials changed since it began."""
        if not self._listening or self.ttl_s <= 0 or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # bounded memory; a cold cache only costs one query per token
        lifetime = self.ttl_s if expires_in_s is None else min(self.ttl_s, expires_in_s)
        self._entries[token_digest] = _Entry(context, time.monotonic() + lifetime)

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    async def shutdown(self) -> None:
        self._stopping.set()

    def _listening_on(self) -> None:
        self.invalidate()  # anything cached before this LISTEN may have missed a change
        self._listening = True

    def _listening_off(self) -> None:
        self._listening = False
        self.invalidate()

    async def run(self) -> None:
        """Hold the LISTEN connection; while it is down the cache is off and empty."""
        await listen_until(
            self.database_url,
            CHANNEL,
            self.invalidate,
            self._stopping,
            on_up=self._listening_on,
            on_down=self._listening_off,
        )
