"""Streams and their receivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from security_events.adapters.postgres import Conn


async def create_stream(conn: Conn, stream_id: str, workspace_id: str, portal: str, alg: str) -> bool:
    """False if the (workspace, portal) already has a stream."""
    status = await conn.execute(
        "INSERT INTO security_events.streams (id, workspace_id, portal, alg) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (workspace_id, portal) DO NOTHING",
        stream_id,
        workspace_id,
        portal,
        alg,
    )
    return bool(status.endswith(" 1"))


async def get_stream(conn: Conn, stream_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM security_events.streams WHERE id = $1", stream_id)


async def stream_of(conn: Conn, workspace_id: str, portal: str) -> str | None:
    """The id of the (workspace, portal)'s stream, if it has one."""
    found = await conn.fetchval(
        "SELECT id FROM security_events.streams WHERE workspace_id = $1 AND portal = $2", workspace_id, portal
    )
    return str(found) if found is not None else None


async def list_streams(conn: Conn, workspace_id: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM security_events.streams WHERE $1::uuid IS NULL OR workspace_id = $1"
        " ORDER BY created_at, id",
        workspace_id,
    )


async def delete_stream(conn: Conn, stream_id: str) -> bool:
    status = await conn.execute("DELETE FROM security_events.streams WHERE id = $1", stream_id)
    return bool(status.endswith(" 1"))


async def add_receiver(conn: Conn, **fields: Any) -> None:
    await conn.execute(
        """
        INSERT INTO security_events.receivers
               (id, stream_id, delivery, endpoint_url, authorization_sealed, poll_token_sha256,
                audience, events)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        fields["id"],
        fields["stream_id"],
        fields["delivery"],
        fields["endpoint_url"],
        fields["authorization_sealed"],
        fields["poll_token_sha256"],
        fields["audience"],
        list(fields["events"]),
    )


async def remove_receiver(conn: Conn, receiver_id: str) -> bool:
    status = await conn.execute("DELETE FROM security_events.receivers WHERE id = $1", receiver_id)
    return bool(status.endswith(" 1"))


async def receivers_of(conn: Conn, stream_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM security_events.receivers WHERE stream_id = $1 ORDER BY created_at, id", stream_id
    )


@dataclass(frozen=True)
class Subscriber:
    """A receiver as building a SET needs it, with its stream's active signing key (still sealed)."""

    id: str
    stream_id: str
    audience: str
    events: tuple[str, ...]
    kid: str
    alg: str
    sealed_key: bytes


async def receivers_for(conn: Conn, workspace_id: str, portal: str) -> tuple[Subscriber, ...]:
    """The receivers subscribed to a connection's changes, each with its stream's active key."""
    rows = await conn.fetch(
        """
        SELECT r.id, r.stream_id, r.audience, r.events, k.kid, k.alg, k.private_sealed
          FROM security_events.receivers r
          JOIN security_events.streams s ON s.id = r.stream_id
          JOIN security_events.signing_keys k ON k.stream_id = s.id AND k.retired_at IS NULL
         WHERE s.workspace_id = $1 AND s.portal = $2
         ORDER BY r.created_at, r.id
        """,
        workspace_id,
        portal,
    )
    return tuple(
        Subscriber(
            str(r["id"]),
            str(r["stream_id"]),
            r["audience"],
            tuple(r["events"]),
            r["kid"],
            r["alg"],
            bytes(r["private_sealed"]),
        )
        for r in rows
    )


async def receiver(conn: Conn, receiver_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM security_events.receivers WHERE id = $1", receiver_id)


async def poll_receiver(conn: Conn, token_sha256: bytes) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM security_events.receivers WHERE poll_token_sha256 = $1 AND delivery = 'poll'",
        token_sha256,
    )
