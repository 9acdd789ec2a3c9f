"""One portal of a workspace: its SCIM state and the way to each of its pages."""

from __future__ import annotations

from aiohttp import web
from scimsuite.console.v1 import console_pb2

from admin_console.entrypoints.http.context import BACKEND, name_of, portal
from admin_console.entrypoints.http.render import page


async def portal_page(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    health = None
    tokens: list[console_pb2.Token] = []
    if p.connection is not None:
        reply = await backend.call(
            backend.console.GetConnectionHealth,
            console_pb2.ConnectionHealthRequest(workspace_id=p.workspace.id),
        )
        health = next((h for h in reply.connections if h.portal == p.portal), None)
        tokens = [
            t
            for t in (
                await backend.call(
                    backend.console.ListTokens, console_pb2.ListTokensRequest(connection_id=p.connection.id)
                )
            ).tokens
            if t.active
        ]
    return page(
        request, "portal.html", {"p": p, "portal_name": name_of(p), "health": health, "tokens": tokens}
    )
