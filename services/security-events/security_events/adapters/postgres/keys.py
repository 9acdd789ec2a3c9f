"""Signing keys at rest: sealed private keys, the stream's active key, rotation with an overlap."""

from __future__ import annotations

from datetime import timedelta

from security_events.adapters.postgres import Conn
from security_events.domain import signing
from security_events.domain.key_encryption import Sealer
from security_events.domain.signing import SigningKey


def _purpose(kid: str) -> str:
    return f"signing-key:{kid}"


class KeyStore:
    """Reads keys through a cache: a kid names one immutable key, so a cached key never goes stale."""

    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer
        self._by_kid: dict[str, SigningKey] = {}

    def opened(self, kid: str, alg: str, sealed: bytes) -> SigningKey:
        key = self._by_kid.get(kid)
        if key is None:
            key = SigningKey(kid, alg, self.sealer.open(bytes(sealed), _purpose(kid)))
            self._by_kid[kid] = key
        return key

    async def create(self, conn: Conn, stream_id: str, alg: str) -> SigningKey:
        key = signing.generate(alg)
        await conn.execute(
            "INSERT INTO security_events.signing_keys (kid, stream_id, alg, private_sealed)"
            " VALUES ($1, $2, $3, $4)",
            key.kid,
            stream_id,
            key.alg,
            self.sealer.seal(key.private_pem, _purpose(key.kid)),
        )
        self._by_kid[key.kid] = key
        return key

    async def published(self, conn: Conn, stream_id: str) -> list[SigningKey]:
        """The active key and every retired key still within its overlap, newest first."""
        rows = await conn.fetch(
            "SELECT kid, alg, private_sealed FROM security_events.signing_keys"
            " WHERE stream_id = $1 AND (retired_at IS NULL OR published_until > now())"
            " ORDER BY created_at DESC",
            stream_id,
        )
        return [self.opened(r["kid"], r["alg"], r["private_sealed"]) for r in rows]

    async def rotate(self, conn: Conn, stream_id: str, alg: str, overlap_s: float) -> SigningKey:
        """Retire the active key (published for `overlap_s` more) and make a new one active."""
        await conn.execute(
            "UPDATE security_events.signing_keys SET retired_at = now(), published_until = now() + $2"
            " WHERE stream_id = $1 AND retired_at IS NULL",
            stream_id,
            timedelta(seconds=overlap_s),
        )
        return await self.create(conn, stream_id, alg)
