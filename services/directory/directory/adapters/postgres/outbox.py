"""Writing and draining the transactional outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from suite_common import telemetry

from directory.adapters.postgres.rows import Conn
from directory.domain.events import ResourceChanged
from directory.domain.tenancy import ConnectionContext

NOTIFY_CHANNEL = "directory_outbox"


_TYPES = ("uuid", "text", "text", "bytea", "text", "text")
_INSERT = "INSERT INTO directory.outbox (event_id, stream_key, subject, payload, traceparent, tracestate)"


def values(ctx: ConnectionContext, event: ResourceChanged) -> tuple[Any, ...]:
    """The outbox row of `event`, in the column order of `insert_from` and `append`."""
    headers = telemetry.inject({})
    return (
        uuid.UUID(event.event_id),
        event.stream_key,
        event.subject(ctx),
        event.envelope(ctx).SerializeToString(),
        headers.get("traceparent"),
        headers.get("tracestate"),
    )


def insert_from(source: str, first: int) -> str:
    """An outbox INSERT for a data-modifying CTE: one event per row of `source` (none when the change
    wrote no row), its values in parameters `$first` … `$first+5` (`values`)."""
    # Typed: a parameter in a SELECT list takes no type from the INSERT's target columns.
    params = ", ".join(f"${first + i}::{t}" for i, t in enumerate(_TYPES))
    return f"{_INSERT} SELECT {params} FROM {source}"


async def append(conn: Conn, ctx: ConnectionContext, event: ResourceChanged) -> None:
    """Record the event in the caller's transaction; a trigger's NOTIFY wakes the relay when it commits."""
    await conn.execute(f"{_INSERT} VALUES ($1, $2, $3, $4, $5, $6)", *values(ctx, event))


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    subject: str
    payload: bytes
    traceparent: str | None
    tracestate: str | None


async def take_batch(conn: Conn, limit: int) -> list[OutboxRow]:
    """Claim and delete the oldest publishable rows in one statement, skipping those another relay replica
    holds; the caller publishes them before its transaction commits, and a failed publish rolls the
    delete back.

    A row is publishable only when no older row of the same resource remains (a row another replica has
    taken but not yet committed still counts), so events of one resource leave in commit order even with
    several relays; rows of different resources go out in parallel. Returned oldest first.
    """
    rows = await conn.fetch(
        """
        WITH claimed AS (
            SELECT o.id
              FROM directory.outbox o
             WHERE NOT EXISTS (
                     SELECT 1 FROM directory.outbox p WHERE p.stream_key = o.stream_key AND p.id < o.id)
             ORDER BY o.id
             LIMIT $1
               FOR UPDATE SKIP LOCKED
        )
        DELETE FROM directory.outbox o USING claimed c
         WHERE o.id = c.id
        RETURNING o.id, o.event_id, o.subject, o.payload, o.traceparent, o.tracestate
        """,
        limit,
    )
    taken = [
        OutboxRow(
            r["id"], str(r["event_id"]), r["subject"], bytes(r["payload"]), r["traceparent"], r["tracestate"]
        )
        for r in rows
    ]
    return sorted(taken, key=lambda row: row.id)


async def backlog(conn: Conn) -> tuple[int, float]:
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age"
        " FROM directory.outbox"
    )
    assert row is not None
    return int(row["n"]), float(row["age"])
