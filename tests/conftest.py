"""Shared fixtures: real PostgreSQL and NATS for the session, the suite's services, tenants and clients."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio

from tests.support.admin import Admin, Tenant
from tests.support.scim_client import ScimClient
from tests.support.servers import Servers, session_servers
from tests.support.stack import Stack, keep_logs_if_tests_fail, kept_logs, migrated_database, note_kept


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with session_servers() as s:
        yield s


@pytest_asyncio.fixture(scope="session")
async def database_url(servers: Servers) -> AsyncIterator[str]:
    """The session's database, every migration applied; shared with the session's `stack`."""
    async with migrated_database(servers, "scimtest") as dsn:
        yield dsn


@pytest_asyncio.fixture(scope="session")
async def stack(request: pytest.FixtureRequest, servers: Servers, database_url: str) -> AsyncIterator[Stack]:
    keep = keep_logs_if_tests_fail(request)
    s = Stack(database_url, servers.nats_url).start()
    yield s
    await asyncio.to_thread(s.stop, keep_logs_because=keep())
    note_kept(s)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the service logs of stacks that failed or ran under failing tests are (all others are gone)."""
    for folder in kept_logs:
        terminalreporter.write_line(f"service logs kept in {folder}")


@pytest_asyncio.fixture(scope="session")
async def admin(stack: Stack) -> AsyncIterator[Admin]:
    a = Admin(stack)
    yield a
    await a.close()


@pytest_asyncio.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest_asyncio.fixture
async def store_tenant(admin: Admin, unique: str) -> Tenant:
    return await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")


@pytest_asyncio.fixture
async def scim(http: aiohttp.ClientSession, stack: Stack, store_tenant: Tenant) -> ScimClient:
    return ScimClient(http, stack.edge_url, store_tenant)
