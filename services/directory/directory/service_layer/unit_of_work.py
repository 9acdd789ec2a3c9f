"""One database transaction per use case, with lock and statement timeouts so nothing waits forever."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from directory.adapters.postgres.rows import Conn


@asynccontextmanager
async def transaction(pool: asyncpg.Pool, *, lock_timeout_ms: int = 5000) -> AsyncIterator[Conn]:
    async with pool.acquire() as conn, conn.transaction():
        # A lock wait longer than this is a deadlock-in-waiting; fail the request instead
        # (RFC 7644 clients retry).
        await conn.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
        yield conn
