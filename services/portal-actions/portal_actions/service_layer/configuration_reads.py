"""What applying an event reads of a connection's configuration: its behaviour and its attribute mappings.

`ConfigurationReads` reads them from PostgreSQL in the event's transaction. `CachedConfiguration` keeps
them per replica, so an event pays no round trip for them: an entry is trusted only while the replica is
LISTENing on `portal_configuration`, which every admin write of a behaviour or an attribute mapping
notifies in its own transaction (`adapters.postgres.configuration`), so a change reaches every replica
when it commits, as the directory's credentials cache does. Without a live LISTEN connection the cache is
bypassed; entries also expire after `ttl_s`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from suite_common.pg_listen import listen_until

from portal_actions.adapters.postgres import Conn, configuration
from portal_actions.domain.behaviour import Behaviour, default_behaviour

MappingPairs = tuple[tuple[str, str], ...]  # (SCIM attribute, metadata key), ordered by metadata key


class ConfigurationReads:
    """Straight from PostgreSQL, in the caller's transaction."""

    async def behaviour(self, conn: Conn, workspace_id: str, portal: str) -> Behaviour:
        found = await configuration.behaviour(conn, workspace_id, portal)
        return found or default_behaviour(workspace_id, portal)

    async def mappings(self, conn: Conn, workspace_id: str, portal: str) -> MappingPairs:
        rows = await configuration.attribute_mappings(conn, workspace_id, portal)
        return tuple((m.scim_attribute, m.metadata_key) for m in rows)


DIRECT = ConfigurationReads()


@dataclass(frozen=True)
class _Entry:
    behaviour: Behaviour | None
    mappings: MappingPairs | None
    valid_until: float  # time.monotonic()


class CachedConfiguration(ConfigurationReads):
    def __init__(self, database_url: str, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        self.database_url = database_url
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], _Entry] = {}
        # Bumped by every invalidation: a read that began before a change must not cache what it read.
        self.generation = 0
        self._listening = False
        self._stopping = asyncio.Event()

    def _fresh(self, key: tuple[str, str]) -> _Entry | None:
        if not self._listening:
            return None
        entry = self._entries.get(key)
        if entry is not None and entry.valid_until <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry

    def _put(
        self,
        key: tuple[str, str],
        generation: int,
        *,
        behaviour: Behaviour | None = None,
        mappings: MappingPairs | None = None,
    ) -> None:
        if not self._listening or self.ttl_s <= 0 or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # bounded memory; a cold entry only costs one query
        old = self._entries.get(key)
        self._entries[key] = _Entry(
            behaviour if behaviour is not None else (old.behaviour if old else None),
            mappings if mappings is not None else (old.mappings if old else None),
            old.valid_until if old else time.monotonic() + self.ttl_s,
        )

    async def behaviour(self, conn: Conn, workspace_id: str, portal: str) -> Behaviour:
        key = (workspace_id, portal)
        entry = self._fresh(key)
        if entry is not None and entry.behaviour is not None:
            return entry.behaviour
        generation = self.generation
        found = await super().behaviour(conn, workspace_id, portal)
        self._put(key, generation, behaviour=found)
        return found

    async def mappings(self, conn: Conn, workspace_id: str, portal: str) -> MappingPairs:
        key = (workspace_id, portal)
        entry = self._fresh(key)
        if entry is not None and entry.mappings is not None:
            return entry.mappings
        generation = self.generation
        found = await super().mappings(conn, workspace_id, portal)
        self._put(key, generation, mappings=found)
        return found

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
            configuration.NOTIFY_CHANNEL,
            self.invalidate,
            self._stopping,
            on_up=self._listening_on,
            on_down=self._listening_off,
        )
