"""Shared fixtures: real PostgreSQL and NATS for the session, the suite's services, tenants and clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio

from tests.support.admin import Admin, Tenant
from tests.support.scim_client import ScimClient
from tests.support.servers import Servers, create_database, drop_database, test_servers
from tests.support.stack import Stack, migrate


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with test_servers() as s:
        yield s


@pytest_asyncio.fixture(scope="session")
async def database_url(servers: Servers) -> AsyncIterator[str]:
    dsn = await create_database(servers)
    await migrate(dsn)
    yield dsn
    await drop_database(servers, dsn)


@pytest_asyncio.fixture(scope="session")
async def stack(servers: Servers, database_url: str) -> AsyncIterator[Stack]:
    s = Stack(database_url, servers.nats_url).start()
    yield s
    s.stop()


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
