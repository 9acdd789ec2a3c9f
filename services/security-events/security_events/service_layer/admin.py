"""Administering streams: one per (workspace, portal), its receivers, and key rotation; and what was built
for one subject (the console's timeline of a person).

A push receiver's URL must be https (RFC 8935 §5.1: SETs go over TLS) unless the service runs with the
documented dev switch `SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS=true` (loopback tests, `make run`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import jwt

from security_events.adapters.postgres import sets, streams
from security_events.adapters.postgres.keys import KeyStore
from security_events.domain import event_uris, signing
from security_events.domain.key_encryption import Sealer
from security_events.domain.set_claims import ENDPOINTS
from security_events.errors import AlreadyExists, InvalidRequest, NotFound

PORTALS = ("dashboard", "store", "mdm")
SUBJECT_SETS_DEFAULT, SUBJECT_SETS_MAX = 100, 500


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidRequest(f"{what} must be a UUID, got {value!r}") from exc


def _portal(value: str) -> str:
    if value not in PORTALS:
        raise InvalidRequest(f"portal must be one of {', '.join(PORTALS)}, got {value!r}")
    return value


def _subject(value: str) -> str:
    """A SET subject as `sub_id.uri` holds it (RFC 9967 §2.1): `/Users/<id>` or `/Groups/<id>`."""
    endpoint, _, resource_id = value.removeprefix("/").partition("/")
    if not value.startswith("/") or endpoint not in ENDPOINTS.values():
        raise InvalidRequest(f"subject must be /Users/<id> or /Groups/<id>, got {value!r}")
    return f"/{endpoint}/{_uuid(resource_id, 'the subject id')}"


def _limit(value: int) -> int:
    if value < 0:
        raise InvalidRequest(f"limit must not be negative, got {value}")
    return min(value or SUBJECT_SETS_DEFAULT, SUBJECT_SETS_MAX)


def _event_uris(token: str) -> tuple[str, ...]:
    """The event URIs of a stored SET. Not verified: this service signed it, and only the URIs are read."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return tuple(sorted(claims["events"]))


@dataclass(frozen=True)
class SubjectSet:
    """One SET built for a subject, with its receiver and delivery state."""

    jti: str
    txn: str
    receiver_id: str
    delivery: str
    audience: str
    endpoint_url: str
    events: tuple[str, ...]
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


def _subject_set(row: asyncpg.Record) -> SubjectSet:
    return SubjectSet(
        jti=row["jti"],
        txn=row["txn"],
        receiver_id=str(row["receiver_id"]),
        delivery=row["delivery"],
        audience=row["audience"],
        endpoint_url=row["endpoint_url"] or "",
        events=_event_uris(row["token"]),
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"] or "",
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )


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
        # Called once a change to streams, receivers or keys has committed (this replica's receivers cache).
        self.on_change = on_change
        self.default_overlap_s = default_overlap_s
        self.keys = keys
        self.sealer = sealer
        self.allow_insecure = allow_insecure

    async def create_stream(self, workspace_id: str, portal: str, alg: str) -> str:
        workspace_id = _uuid(workspace_id, "workspace_id")
        portal = _portal(portal)
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

    async def subject_sets(
        self, workspace_id: str, portal: str, subject: str, limit: int
    ) -> list[SubjectSet] | None:
        """The SETs built for one subject for this (workspace, portal)'s receivers, newest first (at most
        `limit`, 0 meaning the default); None when the portal has no stream.

        The SETs are found through the (workspace, portal)'s stream, the tenant boundary, never by the
        subject alone: the subject is whatever id the caller passes.
        """
        workspace_id = _uuid(workspace_id, "workspace_id")
        portal, subject, limit = _portal(portal), _subject(subject), _limit(limit)
        async with self.pool.acquire() as conn:
            stream_id = await streams.stream_of(conn, workspace_id, portal)
            if stream_id is None:
                return None
            rows = await sets.of_subject(conn, stream_id, subject, limit)
        return [_subject_set(r) for r in rows]

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
