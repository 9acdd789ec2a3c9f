"""The per-replica token cache never serves what a credential change made stale."""

from __future__ import annotations

from directory.domain.tenancy import ConnectionContext
from directory.service_layer.credentials_cache import CredentialsCache

CTX = ConnectionContext(connection_id="c1", workspace_id="w1", portal="store", custom_schemas=())


def listening_cache() -> CredentialsCache:
    cache = CredentialsCache("postgresql://unused", ttl_s=30.0)
    cache._listening = True  # what run() sets once its LISTEN connection is up
    return cache


def test_a_cached_token_is_served_until_an_invalidation() -> None:
    cache = listening_cache()
    cache.remember(b"digest", CTX, None, cache.generation)
    assert cache.get(b"digest") == CTX
    cache.invalidate()
    assert cache.get(b"digest") is None


def test_a_lookup_that_raced_a_revocation_is_not_cached() -> None:
    cache = listening_cache()
    started_at = cache.generation  # the lookup reads the database here...
    cache.invalidate()  # ...a revocation commits and its NOTIFY arrives...
    cache.remember(b"digest", CTX, None, started_at)  # ...then the lookup's (stale) result comes back
    assert cache.get(b"digest") is None


def test_nothing_is_cached_without_a_live_listen_connection() -> None:
    cache = CredentialsCache("postgresql://unused", ttl_s=30.0)
    cache.remember(b"digest", CTX, None, cache.generation)
    assert cache.get(b"digest") is None


def test_an_entry_never_outlives_its_token() -> None:
    cache = listening_cache()
    cache.remember(b"digest", CTX, 0.0, cache.generation)  # the token expires now (end of a rotation overlap)
    assert cache.get(b"digest") is None


def test_a_notification_naming_a_connection_drops_only_its_tokens() -> None:
    cache = listening_cache()
    other = ConnectionContext(connection_id="c2", workspace_id="w1", portal="mdm", custom_schemas=())
    cache.remember(b"mine", CTX, None, cache.generation)
    cache.remember(b"theirs", other, None, cache.generation)
    cache.invalidate("c2")  # what migration 0013's triggers send: the changed row's connection id
    assert cache.get(b"mine") == CTX and cache.get(b"theirs") is None
    cache.invalidate("")  # an empty payload still means everything
    assert cache.get(b"mine") is None
