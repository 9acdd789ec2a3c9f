"""The directory assembled by its own composition root around in-memory fakes of its ports, served over a
real loopback gRPC socket: the admin credential, the status mapping, health and the drain all take part,
with no PostgreSQL or NATS behind them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any, cast

import grpc
import pytest
from directory.bootstrap import DirectoryParts, compose
from directory.config import load_settings
from directory.domain.admin import Connection, GroupSummary, OutboxBacklog, UserSummary, Workspace
from directory.domain.tenancy import ConnectionContext, token_hash
from directory.service_layer.admin import AdminService
from directory.service_layer.authentication import Authenticator
from directory.service_layer.resources import ResourceService
from grpc_health.v1 import health_pb2, health_pb2_grpc
from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from scimsuite.directory.v1 import directory_pb2, directory_pb2_grpc
from suite_common.admin_credential import AdminCredentialAttach
from suite_common.grpc_errors import scim_error_from_rpc
from suite_common.grpc_status import UNAVAILABLE_DEPENDENCY_KEY
from suite_common.service import Runtime, run_service

from tests.support.eventually import assert_eventually

ADMIN_TOKEN = "composed-admin-token"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


@dataclass
class FakeTenants:
    """The `Tenants` port in memory; `down` makes every call fail as a lost database connection does."""

    workspaces: dict[uuid.UUID, Workspace] = field(default_factory=dict)
    connections: dict[uuid.UUID, Connection] = field(default_factory=dict)
    tokens: dict[bytes, uuid.UUID] = field(default_factory=dict)
    down: bool = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionResetError("connection to the database was lost")

    async def create_workspace(self, name: str) -> Workspace | None:
        self._check()
        if any(w.name == name for w in self.workspaces.values()):
            return None
        ws = Workspace(uuid.uuid4(), name, NOW)
        self.workspaces[ws.id] = ws
        return ws

    async def find_workspace(self, ref: str) -> Workspace | None:
        self._check()
        return next((w for w in self.workspaces.values() if ref in (w.name, str(w.id))), None)

    async def list_workspaces(self) -> list[Workspace]:
        self._check()
        return sorted(self.workspaces.values(), key=lambda w: w.name)

    async def upsert_connection(self, workspace_id: uuid.UUID, portal: str) -> uuid.UUID:
        self._check()
        found = await self.find_connection(workspace_id, portal)
        c = (
            replace(found, enabled=True)
            if found
            else Connection(uuid.uuid4(), workspace_id, portal, True, NOW, 0)
        )
        self.connections[c.id] = c
        return c.id

    async def find_connection(self, workspace_id: uuid.UUID, portal: str) -> Connection | None:
        self._check()
        return next(
            (c for c in self.connections.values() if (c.workspace_id, c.portal) == (workspace_id, portal)),
            None,
        )

    async def list_connections(self, workspace_id: uuid.UUID) -> list[Connection]:
        self._check()
        return [c for c in self.connections.values() if c.workspace_id == workspace_id]

    async def set_connection_enabled(self, connection_id: uuid.UUID, enabled: bool) -> None:
        self.connections[connection_id] = replace(self.connections[connection_id], enabled=enabled)

    async def add_token(self, connection_id: uuid.UUID, token: str) -> None:
        self.tokens[token_hash(token)] = connection_id
        c = self.connections[connection_id]
        self.connections[connection_id] = replace(c, active_tokens=c.active_tokens + 1)

    async def expire_tokens(self, connection_id: uuid.UUID, overlap_seconds: float) -> int:
        return await self.revoke_tokens(connection_id)

    async def revoke_tokens(self, connection_id: uuid.UUID) -> int:
        gone = [d for d, c in self.tokens.items() if c == connection_id]
        for digest in gone:
            del self.tokens[digest]
        self.connections[connection_id] = replace(self.connections[connection_id], active_tokens=0)
        return len(gone)

    async def set_custom_schemas(self, connection_id: uuid.UUID, schemas: list[dict[str, Any]]) -> None:
        self.connections[connection_id] = replace(
            self.connections[connection_id], custom_schemas=tuple(schemas)
        )

    async def set_profile(self, connection_id: uuid.UUID, profile: str) -> None:
        self.connections[connection_id] = replace(self.connections[connection_id], profile=profile)


class FakeListing:
    async def users(self, connection_id: uuid.UUID) -> list[UserSummary]:
        return []

    async def groups(self, connection_id: uuid.UUID) -> list[GroupSummary]:
        return []

    async def outbox_backlog(self) -> OutboxBacklog:
        return OutboxBacklog(0, 0.0)


@dataclass
class FakeUnitOfWork:
    tenants: FakeTenants
    listing: FakeListing


@dataclass
class FakeUnitsOfWork:
    tenants: FakeTenants = field(default_factory=FakeTenants)
    committed: int = 0

    @contextlib.asynccontextmanager
    async def __call__(self, transactional: bool = False) -> AsyncIterator[FakeUnitOfWork]:
        yield FakeUnitOfWork(self.tenants, FakeListing())
        self.committed += transactional


@dataclass
class Composed:
    units: FakeUnitsOfWork
    admin: admin_pb2_grpc.DirectoryAdminAsyncStub
    data: directory_pb2_grpc.DirectoryServiceAsyncStub
    health: health_pb2_grpc.HealthStub
    channel: grpc.aio.Channel
    stop: asyncio.Event
    runner: asyncio.Task[None]
    database_up: list[bool]
    address: str


@pytest.fixture
async def composed() -> AsyncIterator[Composed]:
    units = FakeUnitsOfWork()
    database_up = [True]

    async def lookup(digest: bytes) -> tuple[ConnectionContext, float | None] | None:
        cid = units.tenants.tokens.get(digest)
        if cid is None:
            return None
        c = units.tenants.connections[cid]
        return ConnectionContext(str(c.id), str(c.workspace_id), c.portal, c.custom_schemas), None

    async def database_answers() -> bool:
        return database_up[0]

    async def fake_parts(runtime: Runtime, settings: Any, registry: Any) -> DirectoryParts:
        return DirectoryParts(
            # Every data call in these tests is refused by authentication before it reaches a use case.
            resources=cast(ResourceService, None),
            authenticator=Authenticator(lookup),
            admin=AdminService(units, settings.public_base_url),
            checks={"database": database_answers},
        )

    settings = load_settings({"DIRECTORY_GRPC_LISTEN": "127.0.0.1:0", "ADMIN_TOKEN": ADMIN_TOKEN})
    stop, ready = asyncio.Event(), asyncio.Event()
    ports: list[int] = []

    async def composition(runtime: Runtime) -> None:
        ports.append((await compose(runtime, settings, fake_parts, drain_pause_s=0)).port)

    runner = asyncio.create_task(run_service("directory", composition, stop, grace_s=1.0, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    address = f"127.0.0.1:{ports[0]}"
    attach: Any = AdminCredentialAttach(ADMIN_TOKEN)  # grpc-stubs type client interceptors too narrowly
    channel = grpc.aio.insecure_channel(address, interceptors=[attach])
    try:
        yield Composed(
            units,
            admin_pb2_grpc.DirectoryAdminStub(channel),
            directory_pb2_grpc.DirectoryServiceStub(channel),
            health_pb2_grpc.HealthStub(channel),
            channel,
            stop,
            runner,
            database_up,
            address,
        )
    finally:
        stop.set()
        await runner
        await channel.close(None)


async def test_the_admin_api_runs_on_the_fake_ports(composed: Composed) -> None:
    ws = await composed.admin.CreateWorkspace(admin_pb2.CreateWorkspaceRequest(name="acme"))
    creds = await composed.admin.EnableScim(admin_pb2.EnableScimRequest(workspace="acme", portal="store"))
    listed = await composed.admin.ListConnections(admin_pb2.ListConnectionsRequest(workspace=ws.id))
    assert [c.portal for c in listed.connections] == ["store"]
    assert listed.connections[0].active_tokens == 1 and creds.token.startswith("scim_")
    assert creds.base_url.endswith(f"/scim/v2/{creds.connection.id}")
    assert composed.units.committed == 2  # the create and the enable, each its own transaction


async def test_admin_verdicts_and_a_database_outage_have_their_statuses(composed: Composed) -> None:
    await composed.admin.CreateWorkspace(admin_pb2.CreateWorkspaceRequest(name="taken"))
    cases = [
        (admin_pb2.CreateWorkspaceRequest(name="taken"), grpc.StatusCode.ALREADY_EXISTS),
        (admin_pb2.CreateWorkspaceRequest(name=" "), grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for request, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await composed.admin.CreateWorkspace(request)
        assert failed.value.code() == code, request
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await composed.admin.GetWorkspace(admin_pb2.GetWorkspaceRequest(workspace="nowhere"))
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND
    composed.units.tenants.down = True
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await composed.admin.ListWorkspaces(admin_pb2.ListWorkspacesRequest())
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert (UNAVAILABLE_DEPENDENCY_KEY, "database") in [
        tuple(cast(Any, m)) for m in failed.value.trailing_metadata() or ()
    ]


async def test_the_admin_api_refuses_a_call_without_the_credential(composed: Composed) -> None:
    bare = grpc.aio.insecure_channel(composed.address)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await admin_pb2_grpc.DirectoryAdminStub(bare).ListWorkspaces(admin_pb2.ListWorkspacesRequest())
    finally:
        await bare.close(None)
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert composed.units.tenants.workspaces == {}


async def test_the_data_api_authenticates_through_the_fake_lookup(composed: Composed) -> None:
    await composed.admin.CreateWorkspace(admin_pb2.CreateWorkspaceRequest(name="data"))
    creds = await composed.admin.EnableScim(admin_pb2.EnableScimRequest(workspace="data", portal="mdm"))
    described = await composed.data.DescribeConnection(
        directory_pb2.DescribeConnectionRequest(connection_id=creds.connection.id),
        metadata=(("authorization", f"Bearer {creds.token}"),),
    )
    assert described.portal == "mdm" and described.workspace_id == creds.connection.workspace_id
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await composed.data.DescribeConnection(
            directory_pb2.DescribeConnectionRequest(connection_id=creds.connection.id),
            metadata=(("authorization", "Bearer scim_forged"),),
        )
    error = scim_error_from_rpc(failed.value)
    assert (
        failed.value.code() == grpc.StatusCode.UNAUTHENTICATED and error is not None and error.status == 401
    )


async def test_health_follows_the_checks_and_drops_first_on_shutdown(composed: Composed) -> None:
    async def status() -> int:
        return int((await composed.health.Check(health_pb2.HealthCheckRequest(service=""))).status)

    async def serving() -> None:
        assert await status() == health_pb2.HealthCheckResponse.SERVING

    async def not_serving() -> None:
        assert await status() == health_pb2.HealthCheckResponse.NOT_SERVING

    await assert_eventually(serving)
    composed.database_up[0] = False
    await assert_eventually(not_serving)
    composed.database_up[0] = True
    await assert_eventually(serving)
    composed.stop.set()
    await composed.runner
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await status()
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE  # the listener closed with the runtime
