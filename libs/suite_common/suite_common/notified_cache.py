"""A per-replica cache that PostgreSQL's NOTIFY keeps honest, for data read on every request or event.

An entry is trusted only while this replica holds a LISTEN connection on the cache's channel: the writers'
triggers (or use cases) NOTIFY every replica on each change, and each replica drops what it changed: the
entries whose `scope_of` is the notification's payload, or its whole cache for an empty payload (or when
the cache has no scopes). While
the LISTEN connection is down the cache is bypassed and empty, so a missed notification can never serve a
stale value. Entries also expire after `ttl_s`, a backstop rather than the mechanism.

A read that began before a change must not cache what it read: callers take `generation` before they
read and hand it back to `put`, which drops the value if an invalidation came in between.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from suite_common.pg_listen import listen_until

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    valid_until: float  # time.monotonic()


class NotifiedCache(Generic[K, V]):
    def __init__(
        self, database_url: str, channel: str, ttl_s: float = 30.0, max_entries: int = 10_000
    ) -> None:
        self.database_url = database_url
        self.channel = channel
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[K, _Entry[V]] = {}
        # Bumped by every invalidation (see the module docstring).
        self.generation = 0
        self._listening = False
        self._stopping = asyncio.Event()

    @property
    def listening(self) -> bool:
        """Whether entries are trusted now (the LISTEN connection is up)."""
        return self._listening

    def get(self, key: K) -> V | None:
        if not self._listening:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.valid_until <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry.value

    def put(self, key: K, value: V, generation: int, lifetime_s: float | None = None) -> None:
        """Cache `value`, read since `generation`, for `ttl_s` (or less, `lifetime_s`)."""
        self._entries.pop(key, None)
        self.update(key, generation, lambda _: value, lifetime_s)

    def update(
        self, key: K, generation: int, merge: Callable[[V | None], V], lifetime_s: float | None = None
    ) -> None:
        """Cache `merge(current value or None)`; an existing entry keeps its expiry."""
        if not self._listening or self.ttl_s <= 0 or generation != self.generation:
            return
        old = self._entries.get(key)
        if old is None and len(self._entries) >= self.max_entries:
            self._entries.clear()  # bounded memory; a cold cache only costs one query per key
        if old is not None:
            valid_until = old.valid_until
        else:
            lifetime = self.ttl_s if lifetime_s is None else min(self.ttl_s, lifetime_s)
            valid_until = time.monotonic() + lifetime
        self._entries[key] = _Entry(merge(old.value if old else None), valid_until)

    def scope_of(self, value: V) -> str | None:
        """The scope a NOTIFY payload names to drop `value` alone (e.g. its connection id); None: the
        cache has no scopes, and every notification empties it."""
        return None

    def invalidate(self, scope: str = "") -> None:
        # Any invalidation makes reads in flight uncacheable, whichever scope they were in: simple and safe.
        self.generation += 1
        if not scope:
            self._entries.clear()
            return
        stale = [k for k, e in self._entries.items() if self.scope_of(e.value) in (scope, None)]
        for key in stale:
            del self._entries[key]

    async def shutdown(self) -> None:
        self._stopping.set()

    def _listening_on(self) -> None:
        self.invalidate()  # anything cached before this LISTEN may have missed a change
        self._listening = True

    def _listening_off(self) -> None:
        self._listening = False
        self.invalidate()

    async def run(self) -> None:
        """Hold the LISTEN connection until `shutdown()`; while it is down the cache is off and empty."""
        await listen_until(
            self.database_url,
            self.channel,
            self.invalidate,
            self._stopping,
            on_up=self._listening_on,
            on_down=self._listening_off,
        )
