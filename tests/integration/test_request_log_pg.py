"""The provisioning log table against real PostgreSQL: records for unknown connections are dropped,
tokens' last use moves forward only, pages are newest first with filters, and retention prunes by age and
by the per-connection row cap."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from directory.adapters.postgres import request_log
from directory.adapters.postgres.request_log import LogFilter, NewEntry


def _entry(
    cid: uuid.UUID, i: int, *, status: int = 200, at: datetime | None = None, user: str = ""
) -> NewEntry:
    return NewEntry(
        connection_id=cid,
        at=at or datetime.now(UTC),
        request_id=f"req-{i}",
        method="POST" if i % 2 else "GET",
        path="/scim/v2/x/Users",
        query="",
        status=status,
        scim_type="",
        detail="",
        latency_ms=1.0,
        user_agent="Okta SCIM Client 1.0.0",
        idp="okta",
        resource_type="User",
        resource_id="",
        user_name=user,
        request_body="",
        response_body="",
        truncated=False,
    )


async def _connection(conn: asyncpg.Connection) -> uuid.UUID:
    ws, cid = uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO directory.workspaces (id, name) VALUES ($1, $2)", ws, f"log-{ws.hex[:8]}")
    await conn.execute(
        "INSERT INTO directory.connections (id, workspace_id, portal) VALUES ($1, $2, 'store')", cid, ws
    )
    return cid


async def test_insert_page_filter_and_token_use(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        cid = await _connection(conn)
        entries = [
            _entry(cid, i, status=401 if i == 3 else 200, user="Jane" if i == 4 else "") for i in range(6)
        ]
        stored = await request_log.insert_batch(conn, [*entries, _entry(uuid.uuid4(), 99)])
        assert stored == 6  # the record naming no connection is dropped
        rows, more = await request_log.page(
            conn, cid, LogFilter(), before_id=0, after_id=0, limit=4, with_bodies=False
        )
        assert more and [r["request_id"] for r in rows] == ["req-5", "req-4", "req-3", "req-2"]
        older, more = await request_log.page(
            conn, cid, LogFilter(), before_id=rows[-1]["id"], after_id=0, limit=4, with_bodies=False
        )
        assert not more and [r["request_id"] for r in older] == ["req-1", "req-0"]
        errors, _ = await request_log.page(
            conn, cid, LogFilter(errors_only=True), before_id=0, after_id=0, limit=10, with_bodies=True
        )
        assert [r["request_id"] for r in errors] == ["req-3"]
        jane, _ = await request_log.page(
            conn, cid, LogFilter(user="jane"), before_id=0, after_id=0, limit=10, with_bodies=False
        )
        assert [r["request_id"] for r in jane] == ["req-4"]

        token = "scim_test_token"
        digest = hashlib.sha256(token.encode()).digest()
        await conn.execute(
            "INSERT INTO directory.tokens (id, connection_id, token_hash) VALUES ($1, $2, $3)",
            uuid.uuid4(),
            cid,
            digest,
        )
        later = datetime.now(UTC)
        await request_log.mark_tokens_used(conn, {digest: later})
        await request_log.mark_tokens_used(conn, {digest: later - timedelta(hours=1)})  # a late batch
        used = await conn.fetchval("SELECT last_used_at FROM directory.tokens WHERE token_hash = $1", digest)
        assert used == later
    finally:
        await conn.close()


async def test_retention_prunes_by_age_and_by_row_cap(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        cid = await _connection(conn)
        old = datetime.now(UTC) - timedelta(days=40)
        await request_log.insert_batch(conn, [_entry(cid, i, at=old) for i in range(3)])
        await request_log.insert_batch(conn, [_entry(cid, 10 + i) for i in range(8)])
        deleted = await request_log.prune(conn, retention_days=30, max_rows_per_connection=5, batch=1000)
        assert deleted >= 3 + 3  # other connections of the shared database may lose rows too
        rows = await conn.fetch(
            "SELECT request_id FROM directory.request_log WHERE connection_id = $1 ORDER BY id", cid
        )
        assert [r["request_id"] for r in rows] == [f"req-{i}" for i in range(13, 18)]
    finally:
        await conn.close()
