"""The provisioning log table: batched inserts from the edge, filtered newest-first pages, retention."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from directory.adapters.postgres.rows import Conn, parse_id

LIST_COLUMNS = (
    "id, at, request_id, method, path, query, status, scim_type, detail, latency_ms, user_agent, idp,"
    " resource_type, resource_id, user_name, truncated"
)
FULL_COLUMNS = LIST_COLUMNS + ", request_body, response_body"


@dataclass(frozen=True)
class NewEntry:
    connection_id: uuid.UUID
    at: datetime
    request_id: str
    method: str
    path: str
    query: str
    status: int
    scim_type: str
    detail: str
    latency_ms: float
    user_agent: str
    idp: str
    resource_type: str
    resource_id: str
    user_name: str
    request_body: str
    response_body: str
    truncated: bool


@dataclass(frozen=True)
class LogFilter:
    errors_only: bool = False
    resource_type: str = ""
    user: str = ""
    method: str = ""


def _values(e: NewEntry) -> tuple[Any, ...]:
    return (
        e.connection_id,
        e.at,
        e.request_id,
        e.method,
        e.path,
        e.query,
        e.status,
        e.scim_type,
        e.detail,
        e.latency_ms,
        e.user_agent,
        e.idp,
        e.resource_type,
        e.resource_id,
        e.user_name,
        e.request_body,
        e.response_body,
        e.truncated,
    )


async def insert_batch(conn: Conn, entries: list[NewEntry]) -> int:
    """Insert the entries whose connection exists (a URL with a made-up connection id is not logged)."""
    if not entries:
        return 0
    columns = list(zip(*(_values(e) for e in entries), strict=True))
    result = await conn.fetchval(
        """
        WITH stored AS (
            INSERT INTO directory.request_log
                   (connection_id, at, request_id, method, path, query, status, scim_type, detail,
                    latency_ms, user_agent, idp, resource_type, resource_id, user_name, request_body,
                    response_body, truncated)
            SELECT i.connection_id, i.at, i.request_id, i.method, i.path, i.query, i.status, i.scim_type,
                   i.detail, i.latency_ms, i.user_agent, i.idp, i.resource_type, i.resource_id, i.user_name,
                   i.request_body, i.response_body, i.truncated
              FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                                   $6::text[], $7::int[], $8::text[], $9::text[], $10::float8[], $11::text[],
                                   $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                                   $17::text[], $18::bool[]) WITH ORDINALITY
                   AS i(connection_id, at, request_id, method, path, query, status, scim_type, detail,
                        latency_ms, user_agent, idp, resource_type, resource_id, user_name, request_body,
                        response_body, truncated, n)
             WHERE EXISTS (SELECT 1 FROM directory.connections c WHERE c.id = i.connection_id)
             -- ids follow the batch's order, so "newest first" is the order the edge saw the requests.
             ORDER BY i.n
            RETURNING 1
        )
        SELECT count(*) FROM stored
        """,
        *(list(c) for c in columns),
    )
    return int(result or 0)


async def mark_tokens_used(conn: Conn, last_use: dict[bytes, datetime]) -> None:
    """Record each token's latest use (only ever moves forward, so batches may arrive in any order)."""
    if not last_use:
        return
    await conn.execute(
        """
        UPDATE directory.tokens t SET last_used_at = u.at
          FROM unnest($1::bytea[], $2::timestamptz[]) AS u(digest, at)
         WHERE t.token_hash = u.digest AND (t.last_used_at IS NULL OR t.last_used_at < u.at)
        """,
        list(last_use.keys()),
        list(last_use.values()),
    )


def _where(connection_id: uuid.UUID, f: LogFilter, start: int = 1) -> tuple[str, list[Any]]:
    args: list[Any] = [connection_id]
    clauses = ["connection_id = $1"]
    if f.errors_only:
        clauses.append("status >= 400")
    if f.resource_type:
        if f.resource_type == "other":
            clauses.append("resource_type = ''")
        else:
            args.append(f.resource_type)
            clauses.append(f"resource_type = ${len(args)}")
    if f.method:
        args.append(f.method.upper())
        clauses.append(f"method = ${len(args)}")
    if f.user:
        args.append(f.user.strip())
        n = len(args)
        if parse_id(f.user.strip()) is not None:
            clauses.append(f"resource_id = ${n}")
        else:
            clauses.append(f"lower(user_name) = lower(${n})")
    return " AND ".join(clauses), args


async def page(
    conn: Conn,
    connection_id: uuid.UUID,
    f: LogFilter,
    *,
    before_id: int,
    after_id: int,
    limit: int,
    with_bodies: bool,
) -> tuple[list[asyncpg.Record], bool]:
    """Newest first; `before_id` pages back, `after_id` keeps only newer entries (the live tail)."""
    where, args = _where(connection_id, f)
    if before_id > 0:
        args.append(before_id)
        where += f" AND id < ${len(args)}"
    if after_id > 0:
        args.append(after_id)
        where += f" AND id > ${len(args)}"
    args.append(limit + 1)
    columns = FULL_COLUMNS if with_bodies else LIST_COLUMNS
    rows = await conn.fetch(
        f"SELECT {columns} FROM directory.request_log WHERE {where} ORDER BY id DESC LIMIT ${len(args)}",
        *args,
    )
    return list(rows[:limit]), len(rows) > limit


async def get(conn: Conn, connection_id: uuid.UUID, entry_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {FULL_COLUMNS} FROM directory.request_log WHERE connection_id = $1 AND id = $2",
        connection_id,
        entry_id,
    )


async def health(conn: Conn, workspace_id: uuid.UUID) -> list[asyncpg.Record]:
    """Per connection of the workspace: the latest request and the last 24 hours' counts."""
    return list(
        await conn.fetch(
            """
            SELECT c.id AS connection_id, c.portal, last.at AS last_at, last.status AS last_status,
                   last.id AS last_id, last.idp, day.requests, day.errors
              FROM directory.connections c
              LEFT JOIN LATERAL (
                  SELECT id, at, status, idp FROM directory.request_log l
                   WHERE l.connection_id = c.id ORDER BY id DESC LIMIT 1
              ) last ON true
              LEFT JOIN LATERAL (
                  SELECT count(*) AS requests, count(*) FILTER (WHERE status >= 400) AS errors
                    FROM directory.request_log l
                   WHERE l.connection_id = c.id AND l.at > now() - interval '24 hours'
              ) day ON true
             WHERE c.workspace_id = $1
             ORDER BY c.portal
            """,
            workspace_id,
        )
    )


async def prune(conn: Conn, retention_days: float, max_rows_per_connection: int, batch: int) -> int:
    """Delete up to `batch` rows older than the retention, then each connection's rows beyond its cap."""
    deleted = 0
    result = await conn.execute(
        """
        DELETE FROM directory.request_log WHERE id IN (
            SELECT id FROM directory.request_log
             WHERE at < now() - make_interval(secs => $1) ORDER BY at LIMIT $2)
        """,
        retention_days * 86400.0,
        batch,
    )
    deleted += int(result.split()[-1])
    if max_rows_per_connection <= 0:
        return deleted
    # The cap: the id of each connection's N-th newest row is found through the (connection_id, id DESC)
    # index; everything older goes.
    result = await conn.execute(
        """
        DELETE FROM directory.request_log l USING (
            SELECT c.id AS connection_id,
                   (SELECT r.id FROM directory.request_log r WHERE r.connection_id = c.id
                     ORDER BY r.id DESC OFFSET $1 LIMIT 1) AS cutoff
              FROM directory.connections c
        ) cap
         WHERE cap.cutoff IS NOT NULL AND l.connection_id = cap.connection_id AND l.id <= cap.cutoff
        """,
        max_rows_per_connection,
    )
    deleted += int(result.split()[-1])
    return deleted
