"""Which SCIM connection a bearer token opens: the per-replica cache first, the database otherwise.

It also keeps the connection's record of which identity provider calls it (README "Profiles"): the edge
names the IdP it recognised, and a change is written once, never once per request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from scim_core import errors

from directory.domain.tenancy import ConnectionContext, bearer_from_header, token_hash
from directory.service_layer.credentials_cache import CredentialsCache

# A live token's connection and the seconds the token has left (None: no end), by the token's SHA-256.
TokenLookup = Callable[[bytes], Awaitable[tuple[ConnectionContext, float | None] | None]]
# Store the IdP recognised on a connection (connection id, idp); True when it changed what was stored.
IdpRecorder = Callable[[str, str], Awaitable[bool]]

log = logging.getLogger(__name__)


class Authenticator:
    def __init__(
        self,
        lookup: TokenLookup,
        cache: CredentialsCache | None = None,
        record_idp: IdpRecorder | None = None,
    ) -> None:
        self.lookup = lookup
        self.cache = cache
        self.record_idp = record_idp
        # The IdP this replica last recorded per connection: a change is written once, not once per
        # request while the credentials caches catch up with it.
        self._recorded: dict[str, str] = {}

    async def note_client(self, ctx: ConnectionContext, client: str | None) -> None:
        """Record the IdP the edge recognised on the connection, only when it differs from what is stored."""
        if self.record_idp is None or client is None or client == ctx.detected_idp:
            return
        if self._recorded.get(ctx.connection_id) == client:
            return
        if len(self._recorded) >= 10_000:
            self._recorded.clear()
        self._recorded[ctx.connection_id] = client
        if await self.record_idp(ctx.connection_id, client):
            log.info("identity provider recognised", extra={"idp": client, "previous": ctx.detected_idp})
        if self.cache:
            # The connections trigger's NOTIFY drops the connection from every replica's cache; this one
            # need not wait for it.
            self.cache.invalidate(ctx.connection_id)

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
                    self.cache.remember(digest, ctx, found[1], generation)
        # A token for another connection is treated exactly like an unknown token: nothing is revealed.
        if ctx is None or ctx.connection_id != connection_id:
            raise errors.Unauthorized("invalid bearer token")
        return ctx
