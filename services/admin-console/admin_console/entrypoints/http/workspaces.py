"""Workspaces (list, create, open) and a workspace's three portals with their SCIM state."""

from __future__ import annotations

from aiohttp import web
from scimsuite.admin.v1 import admin_pb2
from scimsuite.console.v1 import console_pb2

from admin_console.adapters.backend import Rejected
from admin_console.domain.portals import PORTAL_NAMES, PORTALS
from admin_console.entrypoints.http.context import BACKEND, audit, workspace
from admin_console.entrypoints.http.render import page, redirect

MAX_NAME = 100


async def list_workspaces(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    reply = await backend.call(backend.directory.ListWorkspaces, admin_pb2.ListWorkspacesRequest())
    return page(request, "workspaces.html", {"workspaces": list(reply.workspaces), "name": ""})


async def create_workspace(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    form = await request.post()
    name = str(form.get("name", "")).strip()
    error = ""
    if not name:
        error = "Enter a name for the workspace."
    elif len(name) > MAX_NAME:
        error = f"A workspace name has at most {MAX_NAME} characters."
    else:
        try:
            ws = await backend.call(
                backend.directory.CreateWorkspace, admin_pb2.CreateWorkspaceRequest(name=name)
            )
        except Rejected as exc:
            error = "A workspace with that name already exists." if "exists" in str(exc) else str(exc)
        else:
            await audit(request, ws.id, "workspace.create", name)
            raise redirect(f"/workspaces/{ws.id}", "workspace-created")
    reply = await backend.call(backend.directory.ListWorkspaces, admin_pb2.ListWorkspacesRequest())
    return page(
        request,
        "workspaces.html",
        {"workspaces": list(reply.workspaces), "name": name, "errors": {"name": error}},
        status=400,
    )


async def open_workspace(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ws = await workspace(request)
    connections = {
        c.portal: c
        for c in (
            await backend.call(
                backend.directory.ListConnections, admin_pb2.ListConnectionsRequest(workspace=ws.id)
            )
        ).connections
    }
    health = {
        h.portal: h
        for h in (
            await backend.call(
                backend.console.GetConnectionHealth, console_pb2.ConnectionHealthRequest(workspace_id=ws.id)
            )
        ).connections
    }
    tokens: dict[str, list[console_pb2.Token]] = {}
    for name, c in connections.items():
        reply = await backend.call(
            backend.console.ListTokens, console_pb2.ListTokensRequest(connection_id=c.id)
        )
        tokens[name] = [t for t in reply.tokens if t.active]
    portals = [
        {
            "portal": p,
            "name": PORTAL_NAMES[p],
            "connection": connections.get(p),
            "health": health.get(p),
            "tokens": tokens.get(p, []),
        }
        for p in PORTALS
    ]
    return page(request, "workspace.html", {"workspace": ws, "portals": portals})
