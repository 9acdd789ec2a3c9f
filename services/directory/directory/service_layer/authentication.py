"""Which SCIM connection a bearer token opens: the per-replica cache first, the database otherwise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from scim_core import errors

from directory.domain.tenancy import ConnectionContext, bearer_from_header, token_hash
from directory.service_layer.credentials_cache import CredentialsCache

# A live token's connection and the seconds the token has left (None: no end), by the token's SHA-256.
TokenLookup = Callable[[bytes], Awaitable[tuple[ConnectionContext, float | None] | None]]


class Authenticator:
    def __init__(self, lookup: TokenLookup, cache: CredentialsCache | None = None) -> None:
        self.lookup = lookup
        self.cache = cache

    async def connection(self, authorization: str, connection_id: str) -> ConnectionContext:
        """The connection `authorization` opens, which must be `connection_id` (RFC 7644 §2 leaves the
        scheme to the provider; we take a bearer token)."""
        token = bearer_from_header(authorization)
        if not token:
            raise errors.Unauthorized("missing bearer token")
        digest = token_hash(token)
        ctx = self.cache.get(digest) if self.cache else None
        if ctx is None:
            generation = self.cache.generation if self.cache else 0
            found = await self.lookup(digest)
            if found is not None:
                ctx = found[0]
                if self.cache:
                    self.cache.put(digest, ctx, found[1], generation)
        # A token for another connection is treated exactly like an unknown token: nothing is revealed.
        if ctx is None or ctx.connection_id != connection_id:
            raise errors.Unauthorized("invalid bearer token")
        return ctx
