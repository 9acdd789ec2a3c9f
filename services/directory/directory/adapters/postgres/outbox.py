"""Writing and draining the transactional outbox."""

from __future__ import annotations

from dataclasses import dataclass

from suite_common import telemetry

from directory.adapters.postgres.rows import Conn
from directory.domain.events import ResourceChanged
from directory.domain.tenancy import ConnectionContext

NOTIFY_CHANNEL = "directory_outbox"


async def append(conn: Conn, ctx: ConnectionContext, event: ResourceChanged) -> None:
    """Record the event in the caller's transaction; a trigger's NOTIFY wakes the relay when it commits."""
    headers = telemetry.inject({})
    await conn.execute(
        """
        INSERT INTO directory.outbox (event_id, stream_key, subject, payload, traceparent, tracestate)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        event.event_id,
        event.stream_key,
        event.subject(ctx),
        event.envelope(ctx).SerializeToString(),
        headers.get("traceparent"),
        headers.get("tracestate"),
    )


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    subject: str
    payload: bytes
    traceparent: str | None
    tracestate: str | None


async def claim_batch(conn: Conn, limit: int) -> list[OutboxRow]:
    """Lock the oldest publishable rows, skipping those another relay replica holds.

    A row is publishable only when no older row of the same resource remains, so events of one resource
    leave in commit order even with several relays; rows of different resources go out in parallel.
    """
    rows = await conn.fetch(
        """
        SELECT o.id, o.event_id, o.subject, o.payload, o.traceparent, o.tracestate
          FROM directory.outbox o
         WHERE NOT EXISTS (
                 SELECT 1 FROM directory.outbox p WHERE p.stream_key = o.stream_key AND p.id < o.id)
         ORDER BY o.id
         LIMIT $1
           FOR UPDATE SKIP LOCKED
        """,
        limit,
    )
    return [
        OutboxRow(
            r["id"], str(r["event_id"]), r["subject"], bytes(r["payload"]), r["traceparent"], r["tracestate"]
        )
        for r in rows
    ]


async def delete(conn: Conn, ids: list[int]) -> None:
    await conn.execute("DELETE FROM directory.outbox WHERE id = ANY($1::bigint[])", ids)


async def backlog(conn: Conn) -> tuple[int, float]:
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age"
        " FROM directory.outbox"
    )
    assert row is not None
    return int(row["n"]), float(row["age"])
