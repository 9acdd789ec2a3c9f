"""Units of work: one database transaction per use case, holding the repositories the use case needs.

The admin use cases see only the `AdminUnitOfWork` protocol (repositories returning domain dataclasses);
`directory.adapters.postgres.unit_of_work` implements it on asyncpg and unit tests pass in-memory fakes.
The resource use cases still take a connection from `transaction` (their repositories are modules).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import asyncpg

from directory.adapters.postgres.rows import Conn
from directory.domain.admin import Connection, GroupSummary, OutboxBacklog, UserSummary, Workspace


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[Conn]:
    # lock_timeout is a session setting of every pooled connection (suite_common.pg.create_pool), so the
    # transaction needs no extra round trip for it.
    async with pool.acquire() as conn, conn.transaction():
        yield conn


class Tenants(Protocol):
    async def create_workspace(self, name: str) -> Workspace | None: ...
    async def find_workspace(self, ref: str) -> Workspace | None: ...
    async def list_workspaces(self) -> list[Workspace]: ...
    async def upsert_connection(self, workspace_id: uuid.UUID, portal: str) -> uuid.UUID: ...
    async def find_connection(self, workspace_id: uuid.UUID, portal: str) -> Connection | None: ...
    async def list_connections(self, workspace_id: uuid.UUID) -> list[Connection]: ...
    async def set_connection_enabled(self, connection_id: uuid.UUID, enabled: bool) -> None: ...
    async def add_token(self, connection_id: uuid.UUID, token: str) -> None: ...
    async def expire_tokens(self, connection_id: uuid.UUID, overlap_seconds: float) -> int: ...
    async def revoke_tokens(self, connection_id: uuid.UUID) -> int: ...
    async def set_custom_schemas(self, connection_id: uuid.UUID, schemas: list[dict[str, Any]]) -> None: ...


class AdminListing(Protocol):
    async def users(self, connection_id: uuid.UUID) -> list[UserSummary]: ...
    async def groups(self, connection_id: uuid.UUID) -> list[GroupSummary]: ...
    async def outbox_backlog(self) -> OutboxBacklog: ...


class AdminUnitOfWork(Protocol):
    @property
    def tenants(self) -> Tenants: ...
    @property
    def listing(self) -> AdminListing: ...


class AdminUnitsOfWork(Protocol):
    def __call__(self, transactional: bool = False) -> AbstractAsyncContextManager[AdminUnitOfWork]: ...
