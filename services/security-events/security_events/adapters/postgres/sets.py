"""SETs per receiver and their delivery state.

A SET is claimed by a lease (`leased_until`), not by a lock held across the HTTP call: a deliverer that
dies mid-batch holds nothing, and its SETs are claimed again once the lease ends. The claim only takes the
oldest pending SET of each subject, so one subject's SETs reach the receiver in the order they were built
(which is the directory's version order); other subjects go side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from security_events.adapters.postgres import Conn


@dataclass(frozen=True)
class StoredSet:
    seq: int
    jti: str
    txn: str
    token: str
    attempts: int
    age_s: float


async def insert_many(conn: Conn, rows: list[tuple[str, str, str, str, str]]) -> list[str]:
    """Store (receiver, jti, txn, subject, token) rows; returns the receivers of those newly stored."""
    stored = await conn.fetch(
        """
        INSERT INTO security_events.sets (receiver_id, jti, txn, subject, token)
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])
        ON CONFLICT (receiver_id, txn) DO NOTHING
        RETURNING receiver_id
        """,
        *([r[i] for r in rows] for i in range(5)),
    )
    return [str(r["receiver_id"]) for r in stored]


def _text(error: str) -> str:
    """An error as PostgreSQL text can hold it: receivers answer anything, NUL bytes included."""
    return error.replace("\x00", "\\x00")[:1000]


def _stored(rows: list[asyncpg.Record]) -> list[StoredSet]:
    return [
        StoredSet(r["seq"], r["jti"], r["txn"], r["token"], r["attempts"], float(r["age_s"])) for r in rows
    ]


async def claim_push(conn: Conn, receiver_id: str, limit: int, lease_s: float) -> list[StoredSet]:
    """Lease the due head SET of up to `limit` subjects of a push receiver."""
    rows = await conn.fetch(
        """
        WITH due AS (
            SELECT s.seq FROM security_events.sets s
             WHERE s.receiver_id = $1 AND s.state = 'pending'
               AND s.next_attempt_at <= now() AND s.leased_until <= now()
               AND NOT EXISTS (
                     SELECT 1 FROM security_events.sets p
                      WHERE p.receiver_id = s.receiver_id AND p.subject = s.subject
                        AND p.state = 'pending' AND p.seq < s.seq)
             ORDER BY s.seq
             LIMIT $2
               FOR UPDATE SKIP LOCKED)
        UPDATE security_events.sets t SET leased_until = now() + $3
          FROM due WHERE t.seq = due.seq
        RETURNING t.seq, t.jti, t.txn, t.token, t.attempts,
                  extract(epoch FROM now() - t.created_at) AS age_s
        """,
        receiver_id,
        limit,
        timedelta(seconds=lease_s),
    )
    return sorted(_stored(rows), key=lambda s: s.seq)


async def due_push_receivers(conn: Conn) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT DISTINCT s.receiver_id FROM security_events.sets s
          JOIN security_events.receivers r ON r.id = s.receiver_id AND r.delivery = 'push'
         WHERE s.state = 'pending' AND s.next_attempt_at <= now() AND s.leased_until <= now()
        """
    )
    return [str(r["receiver_id"]) for r in rows]


async def delivered(conn: Conn, receiver_id: str, jtis: list[str]) -> int:
    status = await conn.execute(
        """
        UPDATE security_events.sets SET state = 'delivered', delivered_at = now(), leased_until = '-infinity'
         WHERE receiver_id = $1 AND jti = ANY($2::text[]) AND state = 'pending'
        """,
        receiver_id,
        jtis,
    )
    return int(status.split()[-1])


async def failed(conn: Conn, receiver_id: str, jti: str, error: str) -> bool:
    """The receiver refused the SET (RFC 8935 §2.4, RFC 8936 setErrs): kept, with why, and not resent."""
    status = await conn.execute(
        """
        UPDATE security_events.sets SET state = 'failed', last_error = $3, attempts = attempts + 1,
               leased_until = '-infinity'
         WHERE receiver_id = $1 AND jti = $2 AND state = 'pending'
        """,
        receiver_id,
        jti,
        _text(error),
    )
    return bool(status.endswith(" 1"))


async def retry_later(conn: Conn, seq: int, delay_s: float, error: str) -> None:
    await conn.execute(
        """
        UPDATE security_events.sets
           SET attempts = attempts + 1, next_attempt_at = now() + $2, last_error = $3,
               leased_until = '-infinity'
         WHERE seq = $1 AND state = 'pending'
        """,
        seq,
        timedelta(seconds=delay_s),
        _text(error),
    )


async def defer_receiver(conn: Conn, receiver_id: str, delay_s: float) -> None:
    """Hold every pending SET of a receiver back: it is down or asked us to wait (429 Retry-After)."""
    await conn.execute(
        """
        UPDATE security_events.sets SET next_attempt_at = greatest(next_attempt_at, now() + $2)
         WHERE receiver_id = $1 AND state = 'pending'
        """,
        receiver_id,
        timedelta(seconds=delay_s),
    )


async def dead(conn: Conn, seq: int, error: str) -> None:
    await conn.execute(
        "UPDATE security_events.sets SET state = 'dead', last_error = $2, leased_until = '-infinity'"
        " WHERE seq = $1 AND state = 'pending'",
        seq,
        _text(error),
    )


async def lease_for_poll(conn: Conn, receiver_id: str, limit: int, lease_s: float) -> list[StoredSet]:
    """Hand out the head SET of up to `limit` subjects, unless handed out within the redelivery window.

    One SET per subject at a time, as for push: RFC 8936's `sets` is a JSON object, which carries no
    order, so a subject's next SET is handed out only once the previous one is acknowledged (or refused).
    """
    rows = await conn.fetch(
        """
        WITH due AS (
            SELECT s.seq FROM security_events.sets s
             WHERE s.receiver_id = $1 AND s.state = 'pending' AND s.leased_until <= now()
               AND NOT EXISTS (
                     SELECT 1 FROM security_events.sets p
                      WHERE p.receiver_id = s.receiver_id AND p.subject = s.subject
                        AND p.state = 'pending' AND p.seq < s.seq)
             ORDER BY s.seq
             LIMIT $2
               FOR UPDATE SKIP LOCKED)
        UPDATE security_events.sets t SET leased_until = now() + $3, attempts = t.attempts + 1
          FROM due WHERE t.seq = due.seq
        RETURNING t.seq, t.jti, t.txn, t.token, t.attempts,
                  extract(epoch FROM now() - t.created_at) AS age_s
        """,
        receiver_id,
        limit,
        timedelta(seconds=lease_s),
    )
    return sorted(_stored(rows), key=lambda s: s.seq)


async def more_pending(conn: Conn, receiver_id: str) -> bool:
    """Whether SETs wait beyond what was handed out (RFC 8936 `moreAvailable`)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM security_events.sets"
            " WHERE receiver_id = $1 AND state = 'pending' AND leased_until <= now())",
            receiver_id,
        )
    )


async def of_subject(conn: Conn, stream_id: str, subject: str, limit: int) -> list[asyncpg.Record]:
    """The SETs built for one subject (`/Users/<id>`) by a stream's receivers, with each receiver's
    delivery and address, newest first."""
    return await conn.fetch(
        """
        SELECT s.jti, s.txn, s.token, s.state, s.attempts, s.last_error, s.created_at, s.delivered_at,
               r.id AS receiver_id, r.delivery, r.audience, r.endpoint_url
          FROM security_events.sets s
          JOIN security_events.receivers r ON r.id = s.receiver_id
         WHERE r.stream_id = $1 AND s.subject = $2
         ORDER BY s.seq DESC
         LIMIT $3
        """,
        stream_id,
        subject,
        limit,
    )


async def stats(conn: Conn, receiver_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
               count(*) FILTER (WHERE state = 'delivered') AS delivered,
               count(*) FILTER (WHERE state = 'failed') AS failed,
               count(*) FILTER (WHERE state = 'dead') AS dead,
               coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'pending')), 0)
                   AS lag_s,
               (SELECT last_error FROM security_events.sets e
                 WHERE e.receiver_id = $1 AND e.last_error IS NOT NULL
                 ORDER BY seq DESC LIMIT 1) AS last_error
          FROM security_events.sets WHERE receiver_id = $1
        """,
        receiver_id,
    )
    assert row is not None
    return row


async def oldest_pending_ages(conn: Conn) -> list[asyncpg.Record]:
    """(receiver, age of its oldest pending SET) for every receiver, for the lag gauge."""
    return await conn.fetch(
        """
        SELECT r.id AS receiver_id,
               coalesce(extract(epoch FROM now() - min(s.created_at)), 0) AS lag_s
          FROM security_events.receivers r
          LEFT JOIN security_events.sets s ON s.receiver_id = r.id AND s.state = 'pending'
         GROUP BY r.id
        """
    )


async def prune(conn: Conn, older_than_s: float, limit: int = 10_000) -> int:
    """Delete settled SETs (delivered, failed, dead) settled longer ago than the retention; pending stay."""
    status = await conn.execute(
        """
        DELETE FROM security_events.sets WHERE seq IN (
            SELECT seq FROM security_events.sets
             WHERE state <> 'pending' AND coalesce(delivered_at, created_at) < now() - $1::interval
             LIMIT $2)
        """,
        timedelta(seconds=older_than_s),
        limit,
    )
    return int(status.split()[-1])
