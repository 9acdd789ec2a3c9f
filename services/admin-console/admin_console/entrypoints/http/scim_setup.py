"""Enable SCIM (the portal's behaviours, then the Base URL and Bearer token shown once), the tokens page
(rotate with an overlap, revoke, disable) and the behaviours page."""

from __future__ import annotations

from aiohttp import web
from scimsuite.admin.v1 import admin_pb2
from scimsuite.console.v1 import console_pb2
from scimsuite.portal.v1 import portal_pb2

from admin_console.adapters.backend import Backend, Rejected
from admin_console.domain import portals as domain
from admin_console.domain.idp_settings import entra_settings, okta_settings
from admin_console.domain.safeguards import ON_LEAVE
from admin_console.entrypoints.http.context import BACKEND, Portal, audit, name_of, portal
from admin_console.entrypoints.http.portal_page import render_portal
from admin_console.entrypoints.http.render import page, redirect

MAX_OVERLAP_MINUTES = 7 * 24 * 60


def _base(p: Portal) -> str:
    return f"/workspaces/{p.workspace.id}/{p.portal}"


async def _behaviour(backend: Backend, p: Portal) -> portal_pb2.Behaviour:
    return await backend.call(
        backend.portal.GetBehaviour,
        portal_pb2.GetBehaviourRequest(workspace_id=p.workspace.id, portal=p.portal),
    )


async def _policies(backend: Backend, p: Portal) -> list[str]:
    if p.portal != "mdm":
        return []
    reply = await backend.call(
        backend.portal.ListPolicies, portal_pb2.ListPoliciesRequest(workspace_id=p.workspace.id)
    )
    return [x.name for x in reply.policies]


def _form_context(p: Portal, values: dict[str, str], policies: list[str]) -> dict[str, object]:
    return {
        "p": p,
        "portal_name": name_of(p),
        "on_create": domain.ON_CREATE[p.portal],
        "on_deactivate": domain.ON_DEACTIVATE[p.portal],
        "roles": domain.ROLES,
        "policies": policies,
        "profiles": domain.PROFILES,
        "values": values,
    }


def _values(b: portal_pb2.Behaviour) -> dict[str, str]:
    return {
        "on_create": b.on_create,
        "on_deactivate": b.on_deactivate,
        "default_role": b.default_role or "viewer",
        "deactivate_policy": b.deactivate_policy,
    }


async def _save_behaviour(
    request: web.Request, p: Portal, template: str, extra: dict[str, object]
) -> tuple[portal_pb2.Behaviour | None, web.Response | None]:
    """Validate and store the behaviour form; on a bad field, the page again with the message beside it."""
    backend = request.app[BACKEND]
    form = {k: str(v) for k, v in (await request.post()).items()}
    policies = await _policies(backend, p)
    choice, errors = domain.parse_behaviour(p.portal, form, policies)
    if choice is None:
        ctx = {**_form_context(p, form, policies), **extra, "errors": errors}
        return None, page(request, template, ctx, status=400)
    current = await _behaviour(backend, p)
    b = portal_pb2.Behaviour()
    b.CopyFrom(current)
    b.workspace_id, b.portal = p.workspace.id, p.portal
    b.on_create, b.on_deactivate = choice.on_create, choice.on_deactivate
    b.default_role = choice.default_role or b.default_role
    b.deactivate_policy = choice.deactivate_policy
    try:
        saved = await backend.call(backend.portal.SetBehaviour, portal_pb2.SetBehaviourRequest(behaviour=b))
    except Rejected as exc:
        ctx = {**_form_context(p, form, policies), **extra, "errors": {"on_deactivate": str(exc)}}
        return None, page(request, template, ctx, status=400)
    return saved, None


async def enable_form(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    if p.enabled:
        raise redirect(f"{_base(p)}/tokens")
    ctx = _form_context(p, _values(await _behaviour(backend, p)), await _policies(backend, p))
    return page(request, "enable.html", ctx)


async def enable(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    if p.enabled:
        raise redirect(f"{_base(p)}/tokens")
    form = {k: str(v) for k, v in (await request.post()).items()}
    profile, profile_errors = domain.parse_profile(form)
    if profile_errors:
        # Nothing is stored: the behaviour fields' own messages come along with the profile's.
        policies = await _policies(backend, p)
        _, errors = domain.parse_behaviour(p.portal, form, policies)
        ctx = {**_form_context(p, form, policies), "errors": {**errors, **profile_errors}}
        return page(request, "enable.html", ctx, status=400)
    saved, failed = await _save_behaviour(request, p, "enable.html", {})
    if failed is not None:
        return failed
    assert saved is not None
    dry_run = form.get("dry_run", "") == "on"
    if dry_run:
        # Before the connection exists, so its very first event is already rehearsed (as scimctl does).
        await backend.call(
            backend.portal.SetDryRun,
            portal_pb2.SetDryRunRequest(workspace_id=p.workspace.id, portal=p.portal, dry_run=True),
        )
    creds = await backend.call(
        backend.directory.EnableScim,
        admin_pb2.EnableScimRequest(workspace=p.workspace.id, portal=p.portal, profile=profile),
    )
    await audit(
        request,
        p.workspace.id,
        "scim.enable",
        p.portal,
        f"on create: {saved.on_create}; on deactivate: {saved.on_deactivate}; profile: {profile}"
        + ("; dry run" if dry_run else ""),
    )
    health = await _health(backend, p.workspace.id, p.portal)
    return _credentials_page(request, p, creds.base_url, creds.token, health.last_id if health else 0)


def _credentials_page(request: web.Request, p: Portal, base_url: str, token: str, since: int) -> web.Response:
    response = page(
        request,
        "credentials.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "base_url": base_url,
            "token": token,
            "okta": okta_settings(base_url),
            "entra": entra_settings(base_url),
            "since": since,
        },
    )
    # The token is in this answer only: never cached, never shown again.
    response.headers["Cache-Control"] = "no-store"
    return response


async def _health(
    backend: Backend, workspace_id: str, portal_name: str
) -> console_pb2.ConnectionHealth | None:
    reply = await backend.call(
        backend.console.GetConnectionHealth, console_pb2.ConnectionHealthRequest(workspace_id=workspace_id)
    )
    return next((h for h in reply.connections if h.portal == portal_name), None)


async def first_request(request: web.Request) -> web.Response:
    """For the credentials page's script: has a request arrived since the page was shown?"""
    backend = request.app[BACKEND]
    p = await portal(request)
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        since = 0
    if p.connection is None:
        return web.json_response({"arrived": False})
    reply = await backend.call(
        backend.console.ListRequestLog,
        console_pb2.ListRequestLogRequest(connection_id=p.connection.id, after_id=since, limit=1),
    )
    if not reply.entries:
        return web.json_response({"arrived": False})
    # The newest request since the page was shown: during setup, the IdP's test call.
    first = reply.entries[0]
    return web.json_response(
        {
            "arrived": True,
            "at": first.at,
            "method": first.method,
            "path": first.path,
            "status": first.status,
            "ok": first.status < 400,
            "detail": first.detail,
        }
    )


async def tokens_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    tokens: list[console_pb2.Token] = []
    if p.connection is not None:
        reply = await backend.call(
            backend.console.ListTokens, console_pb2.ListTokensRequest(connection_id=p.connection.id)
        )
        tokens = list(reply.tokens)
    return page(
        request,
        "tokens.html",
        {"p": p, "portal_name": name_of(p), "tokens": tokens, "errors": errors or {}, "overlap": "60"},
        status=status,
    )


async def tokens(request: web.Request) -> web.Response:
    return await tokens_page(request)


async def rotate(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    if not p.enabled:
        raise redirect(f"{_base(p)}/enable")
    form = await request.post()
    raw = str(form.get("overlap_minutes", "")).strip()
    if not raw.isdigit() or int(raw) > MAX_OVERLAP_MINUTES:
        return await tokens_page(
            request,
            {"overlap_minutes": f"Enter the overlap in whole minutes, from 0 to {MAX_OVERLAP_MINUTES}."},
            400,
        )
    creds = await backend.call(
        backend.directory.RotateToken,
        admin_pb2.RotateTokenRequest(
            workspace=p.workspace.id, portal=p.portal, overlap_seconds=int(raw) * 60
        ),
    )
    await audit(request, p.workspace.id, "token.rotate", p.portal, f"overlap {raw} min")
    health = await _health(backend, p.workspace.id, p.portal)
    return _credentials_page(request, p, creds.base_url, creds.token, health.last_id if health else 0)


async def revoke(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    if not p.enabled:
        raise redirect(f"{_base(p)}/enable")
    await backend.call(
        backend.directory.RevokeTokens,
        admin_pb2.RevokeTokensRequest(workspace=p.workspace.id, portal=p.portal),
    )
    await audit(request, p.workspace.id, "token.revoke", p.portal)
    raise redirect(f"{_base(p)}/tokens", "tokens-revoked")


async def disable(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    if not p.enabled:
        raise redirect(f"{_base(p)}/enable")
    await backend.call(
        backend.directory.DisableScim, admin_pb2.DisableScimRequest(workspace=p.workspace.id, portal=p.portal)
    )
    await audit(request, p.workspace.id, "scim.disable", p.portal)
    raise redirect(f"/workspaces/{p.workspace.id}", "scim-disabled")


async def _dry_run_context(backend: Backend, p: Portal) -> dict[str, object]:
    dry_run = None
    if p.connection is not None:
        dry_run = await backend.call(
            backend.portal.GetDryRun,
            portal_pb2.GetDryRunRequest(workspace_id=p.workspace.id, portal=p.portal),
        )
    return {"dry_run": dry_run, "on_leave": ON_LEAVE}


async def render_behaviour(
    request: web.Request, p: Portal, errors: dict[str, str], status: int = 200, notice: str = ""
) -> web.Response:
    """The behaviours page with the connection's dry-run mode; `errors` are the dry-run form's."""
    backend = request.app[BACKEND]
    ctx = _form_context(p, _values(await _behaviour(backend, p)), await _policies(backend, p))
    ctx.update({**await _dry_run_context(backend, p), "errors": errors})
    if notice:
        ctx["notice"] = notice
    return page(request, "behaviour.html", ctx, status=status)


async def behaviour_form(request: web.Request) -> web.Response:
    return await render_behaviour(request, await portal(request), {})


async def save_behaviour(request: web.Request) -> web.Response:
    p = await portal(request)
    extra = await _dry_run_context(request.app[BACKEND], p)
    saved, failed = await _save_behaviour(request, p, "behaviour.html", extra)
    if failed is not None:
        return failed
    assert saved is not None
    await audit(
        request,
        p.workspace.id,
        "behaviour.change",
        p.portal,
        f"on create: {saved.on_create}; on deactivate: {saved.on_deactivate}",
    )
    raise redirect(f"{_base(p)}/behaviour", "behaviour-saved")


async def set_profile(request: web.Request) -> web.Response:
    """Pin the connection's compatibility profile (or hand it back to automatic recognition)."""
    backend = request.app[BACKEND]
    p = await portal(request)
    if p.connection is None:
        raise redirect(f"{_base(p)}/enable")
    profile, errors = domain.parse_profile({k: str(v) for k, v in (await request.post()).items()})
    if errors:
        return await render_portal(request, p, errors, status=400)
    try:
        await backend.call(
            backend.directory.SetScimProfile,
            admin_pb2.SetScimProfileRequest(workspace=p.workspace.id, portal=p.portal, profile=profile),
        )
    except Rejected as exc:
        return await render_portal(request, p, {"profile": str(exc)}, status=400)
    await audit(request, p.workspace.id, "scim.profile", p.portal, f"profile: {profile}")
    raise redirect(_base(p), "profile-saved")
