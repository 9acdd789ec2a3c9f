"""The PostgreSQL unit of work: one pooled connection (in a transaction when asked) and its repositories."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from directory.adapters.postgres.admin_listing import AdminListing
from directory.adapters.postgres.tenants import TenantRepository


class PostgresUnitOfWork:
    def __init__(self, tenants: TenantRepository, listing: AdminListing) -> None:
        self.tenants = tenants
        self.listing = listing


class PostgresUnitsOfWork:
    """`async with units(transactional=True) as uow:` the repositories on one pooled connection, inside a
    transaction only for writes, so a read costs no BEGIN/COMMIT round trips."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @contextlib.asynccontextmanager
    async def __call__(self, transactional: bool = False) -> AsyncIterator[PostgresUnitOfWork]:
        # lock_timeout is a session setting of every pooled connection (suite_common.pg.create_pool).
        async with self.pool.acquire() as conn, contextlib.AsyncExitStack() as tx:
            if transactional:
                await tx.enter_async_context(conn.transaction())
            yield PostgresUnitOfWork(TenantRepository(conn), AdminListing(conn))
