"""Administering streams: one per (workspace, portal), its receivers, and key rotation.

A push receiver's URL must be https (RFC 8935 §5.1: SETs go over TLS) unless the service runs with the
documented dev switch `SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS=true` (loopback tests, `make run`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from security_events.adapters.postgres import sets, streams
from security_events.adapters.postgres.keys import KeyStore
from security_events.domain import event_uris, signing
from security_events.domain.key_encryption import Sealer
from security_events.errors import AlreadyExists, InvalidRequest, NotFound

PORTALS = ("dashboard", "store", "mdm")


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidRequest(f"{what} must be a UUID, got {value!r}") from exc


@dataclass(frozen=True)
class NewReceiver:
    row: asyncpg.Record
    poll_token: str


class StreamAdmin:
    def __init__(
        self,
        pool: asyncpg.Pool,
        keys: KeyStore,
        sealer: Sealer,
        *,
        allow_insecure: bool,
        default_overlap_s: float = 7 * 24 * 3600.0,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.pool = pool
        # Called once a change to streams or receivers has committed (this replica's receivers cache).
        self.on_change = on_change
        self.default_overlap_s = default_overlap_s
        self.keys = keys
        self.sealer = sealer
        self.allow_insecure = allow_insecure

    async def create_stream(self, workspace_id: str, portal: str, alg: str) -> str:
        workspace_id = _uuid(workspace_id, "workspace_id")
        if portal not in PORTALS:
            raise InvalidRequest(f"portal must be one of {', '.join(PORTALS)}, got {portal!r}")
        alg = alg or "ES256"
        if alg not in signing.ALGORITHMS:
            raise InvalidRequest(f"alg must be one of {', '.join(signing.ALGORITHMS)}, got {alg!r}")
        stream_id = str(uuid.uuid4())
        async with self.pool.acquire() as conn, conn.transaction():
            if not await streams.create_stream(conn, stream_id, workspace_id, portal, alg):
                raise AlreadyExists(f"workspace {workspace_id} already has a stream for portal {portal}")
            await self.keys.create(conn, stream_id, alg)
        self.on_change()
        return stream_id

    async def stream(self, stream_id: str) -> tuple[asyncpg.Record, list[str], list[dict[str, Any]]]:
        """The stream, its published key ids, and its receivers with their delivery figures."""
        stream_id = _uuid(stream_id, "stream_id")
        async with self.pool.acquire() as conn:
            row = await streams.get_stream(conn, stream_id)
            if row is None:
                raise NotFound(f"no stream {stream_id}")
            kids = [k.kid for k in await self.keys.published(conn, stream_id)]
            receivers = []
            for r in await streams.receivers_of(conn, stream_id):
                receivers.append({"row": r, "stats": await sets.stats(conn, r["id"])})
        return row, kids, receivers

    async def list_streams(self, workspace_id: str) -> list[str]:
        ws = _uuid(workspace_id, "workspace_id") if workspace_id else None
        async with self.pool.acquire() as conn:
            return [str(r["id"]) for r in await streams.list_streams(conn, ws)]

    async def delete_stream(self, stream_id: str) -> None:
        stream_id = _uuid(stream_id, "stream_id")
        async with self.pool.acquire() as conn, conn.transaction():
            if not await streams.delete_stream(conn, stream_id):
                raise NotFound(f"no stream {stream_id}")
        self.on_change()

    def _check_endpoint(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InvalidRequest(f"endpoint_url must be an absolute https URL, got {url!r}")
        if parts.scheme == "http" and not self.allow_insecure:
            raise InvalidRequest(
                "endpoint_url must be https (RFC 8935 §5.1); plain http is allowed only in dev mode "
                "(SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS=true)"
            )
        return url

    async def add_receiver(
        self,
        stream_id: str,
        delivery: str,
        endpoint_url: str,
        authorization: str,
        audience: str,
        events: list[str],
    ) -> NewReceiver:
        stream_id = _uuid(stream_id, "stream_id")
        if delivery not in ("push", "poll"):
            raise InvalidRequest(f"delivery must be push or poll, got {delivery!r}")
        subscribed = event_uris.subscription(events)
        receiver_id = str(uuid.uuid4())
        poll_token = ""
        sealed: bytes | None = None
        if delivery == "push":
            endpoint_url = self._check_endpoint(endpoint_url)
            if authorization:
                sealed = self.sealer.seal(authorization.encode(), f"authorization:{receiver_id}")
        else:
            if endpoint_url or authorization:
                raise InvalidRequest("a poll receiver has no endpoint_url or authorization")
            poll_token = secrets.token_urlsafe(32)
        audience = audience or (
            endpoint_url if delivery == "push" else f"urn:scimsuite:receiver:{receiver_id}"
        )
        async with self.pool.acquire() as conn, conn.transaction():
            if await streams.get_stream(conn, stream_id) is None:
                raise NotFound(f"no stream {stream_id}")
            await streams.add_receiver(
                conn,
                id=receiver_id,
                stream_id=stream_id,
                delivery=delivery,
                endpoint_url=endpoint_url or None,
                authorization_sealed=sealed,
                poll_token_sha256=token_digest(poll_token) if poll_token else None,
                audience=audience,
                events=subscribed,
            )
            row = await streams.receiver(conn, receiver_id)
        self.on_change()
        assert row is not None
        return NewReceiver(row, poll_token)

    async def remove_receiver(self, receiver_id: str) -> None:
        receiver_id = _uuid(receiver_id, "receiver_id")
        async with self.pool.acquire() as conn, conn.transaction():
            if not await streams.remove_receiver(conn, receiver_id):
                raise NotFound(f"no receiver {receiver_id}")
        self.on_change()

    async def rotate_key(self, stream_id: str, overlap_s: float | None) -> None:
        """A new active key; the previous one stays in the JWKS for the overlap (default from settings)."""
        stream_id = _uuid(stream_id, "stream_id")
        overlap_s = self.default_overlap_s if overlap_s is None else overlap_s
        if overlap_s < 0:
            raise InvalidRequest("overlap_seconds must not be negative")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await streams.get_stream(conn, stream_id)
            if row is None:
                raise NotFound(f"no stream {stream_id}")
            await self.keys.rotate(conn, stream_id, row["alg"], overlap_s)
        self.on_change()

    async def jwks(self, stream_id: str) -> dict[str, Any]:
        stream_id = _uuid(stream_id, "stream_id")
        async with self.pool.acquire() as conn:
            if await streams.get_stream(conn, stream_id) is None:
                raise NotFound(f"no stream {stream_id}")
            return signing.jwks(await self.keys.published(conn, stream_id))
