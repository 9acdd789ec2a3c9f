"""One portal of a workspace: its SCIM state, its mass-deactivation guard and dry-run mode, and the way to
each of its pages."""

from __future__ import annotations

from aiohttp import web
from scimsuite.console.v1 import console_pb2
from scimsuite.portal.v1 import portal_pb2

from admin_console.domain.portals import PROFILES
from admin_console.entrypoints.http.context import BACKEND, Portal, name_of, portal
from admin_console.entrypoints.http.render import page

HELD_SAMPLE = 10


def guard_values(guard: portal_pb2.GuardStatus) -> dict[str, str]:
    return {
        "enabled": "on" if guard.enabled else "",
        "max_actions": str(guard.max_actions),
        "max_percent": f"{guard.max_percent:g}",
        "window_minutes": str(guard.window_seconds // 60),
    }


async def render_portal(
    request: web.Request,
    p: Portal,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The portal page; after a refused thresholds form, with the admin's values and the messages beside
    the fields (the guard itself keeps its old setting)."""
    backend = request.app[BACKEND]
    health = None
    tokens: list[console_pb2.Token] = []
    guard = None
    dry_run = None
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
        guard = await backend.call(
            backend.portal.GetGuard,
            portal_pb2.GetGuardRequest(workspace_id=p.workspace.id, portal=p.portal, sample_size=HELD_SAMPLE),
        )
        dry_run = await backend.call(
            backend.portal.GetDryRun,
            portal_pb2.GetDryRunRequest(workspace_id=p.workspace.id, portal=p.portal),
        )
    return page(
        request,
        "portal.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "health": health,
            "tokens": tokens,
            "guard": guard,
            "dry_run": dry_run,
            "profiles": PROFILES,
            "guard_form": values if values is not None else (guard_values(guard) if guard else {}),
            "errors": errors or {},
        },
        status=status,
    )


async def portal_page(request: web.Request) -> web.Response:
    return await render_portal(request, await portal(request))
