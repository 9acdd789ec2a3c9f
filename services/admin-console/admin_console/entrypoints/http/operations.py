"""Operations (outbox backlog, dead letters) and the admin audit of console changes."""

from __future__ import annotations

from aiohttp import web
from scimsuite.admin.v1 import admin_pb2
from scimsuite.console.v1 import console_pb2
from scimsuite.portal.v1 import portal_pb2

from admin_console.entrypoints.http.context import BACKEND
from admin_console.entrypoints.http.render import page


async def operations(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    outbox = await backend.call(backend.directory.OutboxStatus, admin_pb2.OutboxStatusRequest())
    dead = await backend.call(backend.portal.ListDeadLetters, portal_pb2.ListDeadLettersRequest())
    return page(request, "operations.html", {"outbox": outbox, "dead_letters": list(dead.dead_letters)})


async def admin_audit(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    before = request.query.get("before", "")
    reply = await backend.call(
        backend.console.ListAdminAudit,
        console_pb2.ListAdminAuditRequest(before_id=int(before) if before.isdigit() else 0, limit=100),
    )
    actions = list(reply.actions)
    return page(
        request, "audit.html", {"actions": actions, "older": actions[-1].id if len(actions) == 100 else 0}
    )
