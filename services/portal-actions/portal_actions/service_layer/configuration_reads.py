"""What applying an event reads of a connection's configuration: its behaviour and its attribute mappings.

`ConfigurationReads` reads them from PostgreSQL in the event's transaction. `CachedConfiguration` keeps
them per replica, so an event pays no round trip for them: an entry is trusted only while the replica is
LISTENing on `portal_configuration`, which every admin write of a behaviour or an attribute mapping
notifies in its own transaction (`adapters.postgres.configuration`), so a change reaches every replica
when it commits, as the directory's credentials cache does. Without a live LISTEN connection the cache is
bypassed; entries also expire after `ttl_s`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from suite_common.notified_cache import NotifiedCache

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
    behaviour: Behaviour | None = None
    mappings: MappingPairs | None = None


class CachedConfiguration(ConfigurationReads, NotifiedCache[tuple[str, str], _Entry]):
    def __init__(self, database_url: str, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        NotifiedCache.__init__(self, database_url, configuration.NOTIFY_CHANNEL, ttl_s, max_entries)

    async def behaviour(self, conn: Conn, workspace_id: str, portal: str) -> Behaviour:
        key = (workspace_id, portal)
        entry = self.get(key)
        if entry is not None and entry.behaviour is not None:
            return entry.behaviour
        generation = self.generation
        found = await super().behaviour(conn, workspace_id, portal)
        self.update(key, generation, lambda old: replace(old or _Entry(), behaviour=found))
        return found

    async def mappings(self, conn: Conn, workspace_id: str, portal: str) -> MappingPairs:
        key = (workspace_id, portal)
        entry = self.get(key)
        if entry is not None and entry.mappings is not None:
            return entry.mappings
        generation = self.generation
        found = await super().mappings(conn, workspace_id, portal)
        self.update(key, generation, lambda old: replace(old or _Entry(), mappings=found))
        return found
