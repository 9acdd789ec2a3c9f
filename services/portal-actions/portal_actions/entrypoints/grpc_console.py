"""ConsolePortal: what the admin console needs from portal-actions beyond PortalAdmin: one account, removing
an attribute mapping, and the consumer's lag (dead-letter replay is PortalAdmin.ReplayDeadLetters)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import grpc
from scim_core.kinds import PORTAL_NAMES
from scimsuite.console.v1 import console_pb2, console_pb2_grpc
from scimsuite.portal.v1 import portal_pb2

from portal_actions.adapters.nats.console_bus import ConsoleBus
from portal_actions.adapters.postgres import console, devices
from portal_actions.entrypoints.grpc_admin import _account_pb
from portal_actions.entrypoints.grpc_status import ADMIN_API
from portal_actions.errors import NotFound

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


def _ids(workspace_id: str, portal: str) -> str:
    try:
        ws = str(uuid.UUID(workspace_id))
    except ValueError:
        raise NotFound(f"no workspace {workspace_id!r}") from None
    if portal not in PORTAL_NAMES:
        raise NotFound(f"no portal {portal!r}")
    return ws


class ConsolePortalServicer(console_pb2_grpc.ConsolePortalServicer):
    """Guarded by the admin-credential interceptor (suite_common.admin_credential), like PortalAdmin."""

    def __init__(self, pool: asyncpg.Pool, bus: ConsoleBus) -> None:
        self.pool = pool
        self.bus = bus

    async def _run(self, context: Context, call: Callable[[], Awaitable[T]]) -> T:
        # The service's one mapping: NOT_FOUND as here, and a database outage UNAVAILABLE (not UNKNOWN).
        return await ADMIN_API.run(context, call)

    async def GetAccount(
        self, request: console_pb2.GetAccountRequest, context: Context
    ) -> portal_pb2.Account:
        async def call() -> portal_pb2.Account:
            ws = _ids(request.workspace_id, request.portal)
            try:
                uid = str(uuid.UUID(request.user_id))
            except ValueError:
                raise NotFound("no such account") from None
            async with self.pool.acquire() as conn:
                account = await console.account(conn, ws, request.portal, uid)
                if account is None:
                    raise NotFound("the portal has no account for this user")
                if request.portal == "mdm":
                    owned = await devices.user_devices(conn, ws, account.user_name)
                    account = dataclasses.replace(account, devices=tuple(owned))
            return _account_pb(account)

        return await self._run(context, call)

    async def RemoveAttributeMapping(
        self, request: console_pb2.RemoveAttributeMappingRequest, context: Context
    ) -> console_pb2.RemoveAttributeMappingResponse:
        async def call() -> console_pb2.RemoveAttributeMappingResponse:
            ws = _ids(request.workspace_id, request.portal)
            async with self.pool.acquire() as conn:
                removed = await console.remove_attribute_mapping(
                    conn, ws, request.portal, request.metadata_key
                )
            if not removed:
                raise NotFound(f"no mapping to the metadata key {request.metadata_key!r}")
            return console_pb2.RemoveAttributeMappingResponse()

        return await self._run(context, call)

    async def GetConsumerLag(
        self, request: console_pb2.ConsumerLagRequest, context: Context
    ) -> console_pb2.ConsumerLag:
        async def call() -> console_pb2.ConsumerLag:
            lag = await self.bus.lag()
            if lag is None:
                return console_pb2.ConsumerLag(known=False)
            return console_pb2.ConsumerLag(known=True, pending=lag.pending, ack_pending=lag.ack_pending)

        return await self._run(context, call)
