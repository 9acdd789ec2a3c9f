"""Which receivers a connection's changes go to, with their stream's active signing key, kept per replica.

Every event asks it, and almost every connection has no stream, so the answer is cached: an entry is
trusted only while this replica LISTENs on `security_events_receivers`, which the triggers of migration
0002 notify on every change to streams, receivers or signing keys, as the directory's credentials cache
does. The admin API of this replica also drops the cache itself when it commits a change, so its own next
event sees it without waiting for the notification.
"""

from __future__ import annotations

from suite_common.notified_cache import NotifiedCache

from security_events.adapters.postgres import Conn, streams
from security_events.adapters.postgres.streams import Subscriber

NOTIFY_CHANNEL = "security_events_receivers"
Where = tuple[str, str]  # (workspace id, portal)


class ReceiversCache(NotifiedCache[Where, tuple[Subscriber, ...]]):
    def __init__(self, database_url: str, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        super().__init__(database_url, NOTIFY_CHANNEL, ttl_s, max_entries)

    async def receivers(self, conn: Conn, where: Where) -> tuple[Subscriber, ...]:
        found = self.get(where)
        if found is not None:
            return found
        generation = self.generation
        found = await streams.receivers_for(conn, *where)
        self.put(where, found, generation)
        return found
