"""One database transaction per use case, with lock and statement timeouts so nothing waits forever."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from directory.adapters.postgres.rows import Conn


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[Conn]:
    # lock_timeout is a session setting of every pooled connection (suite_common.pg.create_pool), so the
    # transaction needs no extra round trip for it.
    async with pool.acquire() as conn, conn.transaction():
        yield conn
