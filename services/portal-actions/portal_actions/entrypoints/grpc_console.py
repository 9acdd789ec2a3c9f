"""ConsolePortal: what the admin console reads from portal-actions beyond PortalAdmin (one account)."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import asyncpg
import grpc
from scimsuite.console.v1 import console_pb2, console_pb2_grpc
from scimsuite.portal.v1 import portal_pb2

from portal_actions.adapters.postgres import console, devices
from portal_actions.domain.behaviour import PORTALS
from portal_actions.entrypoints.grpc_admin import _account_pb

Context = grpc.aio.ServicerContext[Any, Any]


class ConsolePortalServicer(console_pb2_grpc.ConsolePortalServicer):
    def __init__(self, pool: asyncpg.Pool, admin_token: str) -> None:
        self.pool = pool
        self.admin_token = admin_token

    async def GetAccount(
        self, request: console_pb2.GetAccountRequest, context: Context
    ) -> portal_pb2.Account:
        supplied = str(dict(context.invocation_metadata() or ()).get("x-admin-token", ""))
        if not self.admin_token or not hmac.compare_digest(supplied.encode(), self.admin_token.encode()):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "admin credential required")
        try:
            ws, uid = str(uuid.UUID(request.workspace_id)), str(uuid.UUID(request.user_id))
        except ValueError:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such account")
        if request.portal not in PORTALS:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such portal")
        async with self.pool.acquire() as conn:
            row = await console.account(conn, ws, request.portal, uid)
            if row is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, "the portal has no account for this user")
            devs = await devices.of_user(conn, ws, row["user_name"]) if request.portal == "mdm" else []
        return _account_pb({**dict(row), "devices": [dict(d) for d in devs]})
