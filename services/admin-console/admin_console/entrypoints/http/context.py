"""Typed keys of what the console's handlers share, and the lookups every workspace page starts with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from aiohttp import web
from scimsuite.admin.v1 import admin_pb2
from scimsuite.console.v1 import console_pb2

from admin_console.adapters.backend import Backend
from admin_console.config import Settings
from admin_console.domain.portals import PORTALS
from admin_console.service_layer.sessions import Session, SessionCodec

SETTINGS = web.AppKey("settings", Settings)
BACKEND = web.AppKey("backend", Backend)
SESSIONS = web.AppKey("sessions", SessionCodec)
SESSION = web.RequestKey("session", Session)


class PageNotFound(Exception):
    """An unknown or foreign id in the URL: answered with the 404 page."""


@dataclass(frozen=True)
class Portal:
    workspace: admin_pb2.Workspace
    portal: str
    connection: admin_pb2.Connection | None

    @property
    def enabled(self) -> bool:
        return self.connection is not None and self.connection.enabled


async def workspace(request: web.Request) -> admin_pb2.Workspace:
    ref = request.match_info["ws"]
    try:
        uuid.UUID(ref)
    except ValueError:
        raise PageNotFound(f"no workspace {ref!r}") from None
    backend = request.app[BACKEND]
    return await backend.call(backend.directory.GetWorkspace, admin_pb2.GetWorkspaceRequest(workspace=ref))


async def portal(request: web.Request) -> Portal:
    name = request.match_info["portal"]
    if name not in PORTALS:
        raise PageNotFound(f"no portal {name!r}")
    ws = await workspace(request)
    backend = request.app[BACKEND]
    reply = await backend.call(
        backend.directory.ListConnections, admin_pb2.ListConnectionsRequest(workspace=ws.id)
    )
    connection = next((c for c in reply.connections if c.portal == name), None)
    return Portal(ws, name, connection)


async def connected_portal(request: web.Request) -> tuple[Portal, admin_pb2.Connection]:
    """A portal page that needs a SCIM connection (log, people, groups): 404 when there is none."""
    p = await portal(request)
    if p.connection is None:
        raise PageNotFound(f"SCIM was never enabled on {name_of(p)}")
    return p, p.connection


def name_of(p: Portal) -> str:
    from admin_console.domain.portals import PORTAL_NAMES

    return PORTAL_NAMES[p.portal]


def session(request: web.Request) -> Session:
    return request[SESSION]


async def audit(request: web.Request, workspace_id: str, action: str, target: str, detail: str = "") -> None:
    """Record a console change in the admin audit (who, what, when)."""
    backend = request.app[BACKEND]
    await backend.call(
        backend.console.RecordAdminAction,
        console_pb2.RecordAdminActionRequest(
            action=console_pb2.AdminAction(
                actor=session(request).subject,
                workspace_id=workspace_id,
                action=action,
                target=target,
                detail=detail,
            )
        ),
    )
