"""portal-actions' per-replica configuration cache: used only while its LISTEN is up, dropped on every
notification, and never filled by a read that began before a change."""

from __future__ import annotations

from typing import Any

from portal_actions.service_layer.configuration_reads import CachedConfiguration


class _Conn:
    """Answers the two configuration queries; counts them."""

    def __init__(self) -> None:
        self.queries = 0
        self.on_create = "employee"
        self.mappings: list[dict[str, str]] = [{"scim_attribute": "title", "metadata_key": "job"}]

    async def fetchrow(self, query: str, *args: Any) -> dict[str, Any]:
        self.queries += 1
        return {
            "workspace_id": args[0],
            "portal": args[1],
            "on_create": self.on_create,
            "on_deactivate": "remove",
            "default_role": "viewer",
            "deactivate_policy": None,
            "role_settle_seconds": 300,
        }

    async def fetch(self, query: str, *args: Any) -> list[dict[str, str]]:
        self.queries += 1
        return self.mappings


async def test_reads_are_cached_only_while_listening_and_dropped_on_notify() -> None:
    cache = CachedConfiguration("postgresql://unused")
    conn: Any = _Conn()
    await cache.behaviour(conn, "ws", "store")
    await cache.behaviour(conn, "ws", "store")
    assert conn.queries == 2  # not listening: every read goes to the database

    cache._listening_on()
    assert (await cache.behaviour(conn, "ws", "store")).on_create == "employee"
    assert await cache.mappings(conn, "ws", "store") == (("title", "job"),)
    await cache.behaviour(conn, "ws", "store")
    await cache.mappings(conn, "ws", "store")
    assert conn.queries == 4  # one each, then from the cache

    conn.on_create = "nothing"
    cache.invalidate()  # what a notification on portal_configuration does
    assert (await cache.behaviour(conn, "ws", "store")).on_create == "nothing"
    assert conn.queries == 5

    cache._listening_off()
    await cache.behaviour(conn, "ws", "store")
    assert conn.queries == 6


async def test_a_read_that_began_before_a_change_is_not_cached() -> None:
    cache = CachedConfiguration("postgresql://unused")
    cache._listening_on()
    conn: Any = _Conn()
    real_fetchrow = conn.fetchrow

    async def changed_meanwhile(query: str, *args: Any) -> Any:
        row = await real_fetchrow(query, *args)
        cache.invalidate()  # the admin's change commits while this read is in flight
        return row

    conn.fetchrow = changed_meanwhile
    await cache.behaviour(conn, "ws", "store")
    conn.fetchrow = real_fetchrow
    await cache.behaviour(conn, "ws", "store")
    assert conn.queries == 2
