"""A per-replica cache of authenticated bearer tokens, so a SCIM request costs one database round trip.

A cached entry is only trusted while this replica is LISTENing on `directory_credentials`: every change
to a token or connection (rotation, revocation, disabling SCIM, its recorded IdP) notifies all replicas
with the connection's id, and they drop that connection's tokens (migration 0013), so revocation still
takes effect at once. Without a live LISTEN connection the cache is
bypassed. Entries also expire after `ttl_s` and never outlive the token's own `expires_at`.
"""

from __future__ import annotations

from suite_common.notified_cache import NotifiedCache

from directory.domain.tenancy import ConnectionContext

CHANNEL = "directory_credentials"


class CredentialsCache(NotifiedCache[bytes, ConnectionContext]):
    """Token digest -> the connection it opens; a NOTIFY on `directory_credentials` drops its connection's."""

    def __init__(self, database_url: str, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        super().__init__(database_url, CHANNEL, ttl_s, max_entries)

    def scope_of(self, value: ConnectionContext) -> str:
        return value.connection_id

    def remember(
        self, token_digest: bytes, context: ConnectionContext, expires_in_s: float | None, generation: int
    ) -> None:
        """Cache a lookup that began at `generation`, never beyond the token's own expiry."""
        self.put(token_digest, context, generation, lifetime_s=expires_in_s)
