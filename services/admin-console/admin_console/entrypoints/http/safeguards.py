"""The safeguards in the console (docs/safeguards.md): the guard's thresholds, releasing or discarding what
it holds, dry run on and off, a person's deactivation preview, and the drift report with its repair.

Every change goes through portal-actions' PortalAdmin API and is recorded in the console's admin audit
with who made it."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from scimsuite.portal.v1 import portal_pb2

from admin_console.adapters.backend import Backend, Rejected
from admin_console.domain.safeguards import DIFFERENCE_KINDS, ON_LEAVE, parse_guard
from admin_console.entrypoints.http.context import (
    BACKEND,
    Portal,
    audit,
    connected_portal,
    name_of,
    session,
)
from admin_console.entrypoints.http.portal_page import render_portal
from admin_console.entrypoints.http.render import page, redirect
from admin_console.entrypoints.http.scim_setup import render_behaviour

# The drift page lists this many differences; the repair still fixes every one it finds.
DRIFT_SHOWN = 500
DRIFT_PAGE_USERS = 1000
# A report or repair walks every user of the connection (100,000 in well under a minute).
DRIFT_TIMEOUT_S = 120.0


def _base(p: Portal) -> str:
    return f"/workspaces/{p.workspace.id}/{p.portal}"


async def set_guard(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    form = {k: str(v) for k, v in (await request.post()).items() if k != "csrf"}
    choice, errors = parse_guard(form)
    if choice is None:
        return await render_portal(request, p, errors, form, 400)
    policy = portal_pb2.GuardPolicy(
        workspace_id=p.workspace.id,
        portal=p.portal,
        enabled=choice.enabled,
        max_actions=choice.max_actions,
        max_percent=choice.max_percent,
        window_seconds=choice.window_seconds,
    )
    try:
        saved = await backend.call(backend.portal.SetGuard, portal_pb2.SetGuardRequest(policy=policy))
    except Rejected as exc:
        return await render_portal(request, p, {"guard": str(exc)}, form, 400)
    await audit(
        request,
        p.workspace.id,
        "guard.set",
        p.portal,
        f"{'on' if saved.enabled else 'off'}; more than {saved.max_actions} actions or "
        f"{saved.max_percent:g} % in {saved.window_seconds // 60} min",
    )
    raise redirect(_base(p), "guard-saved")


async def release_held(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    reply = await backend.call(
        backend.portal.ReleaseHeld,
        portal_pb2.DecideHeldRequest(
            workspace_id=p.workspace.id, portal=p.portal, actor=session(request).subject
        ),
    )
    await audit(
        request,
        p.workspace.id,
        "guard.release",
        p.portal,
        f"released {reply.released}; cancelled {reply.cancelled} (users active again)",
    )
    raise redirect(_base(p), "held-released")


async def discard_held(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    reply = await backend.call(
        backend.portal.DiscardHeld,
        portal_pb2.DecideHeldRequest(
            workspace_id=p.workspace.id, portal=p.portal, actor=session(request).subject
        ),
    )
    await audit(request, p.workspace.id, "guard.discard", p.portal, f"discarded {reply.discarded}")
    raise redirect(_base(p), "held-discarded")


async def set_dry_run(request: web.Request) -> web.Response:
    """Dry run on, or off with the admin's choice of reconcile or start fresh (no default: it is asked)."""
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    form = await request.post()
    mode = str(form.get("mode", ""))
    on_leave = str(form.get("on_leave", ""))
    if mode not in ("on", "off"):
        return await render_behaviour(request, p, {"dry_run": "Choose to turn dry run on or off."}, 400)
    if mode == "off" and on_leave not in ON_LEAVE:
        message = "Choose what happens when dry run ends: reconcile, or start fresh."
        return await render_behaviour(request, p, {"on_leave": message}, 400)
    status = await backend.call(
        backend.portal.SetDryRun,
        portal_pb2.SetDryRunRequest(
            workspace_id=p.workspace.id,
            portal=p.portal,
            dry_run=mode == "on",
            on_leave=on_leave if mode == "off" else "",
        ),
    )
    if mode == "on":
        await audit(request, p.workspace.id, "dry-run.on", p.portal)
        raise redirect(f"{_base(p)}/behaviour", "dry-run-on")
    detail = on_leave
    if on_leave == "reconcile":
        detail += f": {status.differences} difference(s) found, {status.repaired} repaired"
    await audit(request, p.workspace.id, "dry-run.off", p.portal, detail)
    notice = (
        f"Dry run ended and the portal reconciled: {status.differences} difference(s) found, "
        f"{status.repaired} repaired."
        if on_leave == "reconcile"
        else "Dry run ended: events from now on are applied; nothing was applied for the dry-run period."
    )
    return await render_behaviour(request, p, {}, 200, notice)


async def preview(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    plan = await backend.call(
        backend.portal.PreviewDeactivation,
        portal_pb2.PreviewDeactivationRequest(
            workspace_id=p.workspace.id, portal=p.portal, user=request.match_info["user"]
        ),
    )
    return page(request, "preview.html", {"p": p, "portal_name": name_of(p), "plan": plan})


@dataclass
class DriftReport:
    differences: list[portal_pb2.Difference] = field(default_factory=list)
    found: int = 0
    repaired: int = 0
    scanned: int = 0
    total: int = 0
    pending: int = 0
    done: bool = False


async def _reconcile(backend: Backend, p: Portal, repair: bool) -> DriftReport:
    report = DriftReport()
    request = portal_pb2.ReconcileRequest(
        workspace_id=p.workspace.id, portal=p.portal, repair=repair, page_size=DRIFT_PAGE_USERS
    )
    async for message in backend.stream(backend.portal.Reconcile, request, DRIFT_TIMEOUT_S):
        part: portal_pb2.ReconcilePage = message
        report.found += len(part.differences)
        report.repaired += sum(1 for d in part.differences if d.repaired)
        room = DRIFT_SHOWN - len(report.differences)
        report.differences.extend(part.differences[:room] if room > 0 else [])
        report.scanned, report.total = part.scanned_users, part.total_users
        report.pending = part.pending_users  # cumulative, like scanned_users
        report.done = part.done
    return report


def _drift_page(request: web.Request, p: Portal, report: DriftReport, notice: str = "") -> web.Response:
    ctx: dict[str, object] = {
        "p": p,
        "portal_name": name_of(p),
        "report": report,
        "kinds": DIFFERENCE_KINDS,
        "shown": DRIFT_SHOWN,
    }
    if notice:
        ctx["notice"] = notice
    return page(request, "drift.html", ctx)


async def drift(request: web.Request) -> web.Response:
    p, _ = await connected_portal(request)
    return _drift_page(request, p, await _reconcile(request.app[BACKEND], p, repair=False))


async def repair(request: web.Request) -> web.Response:
    p, _ = await connected_portal(request)
    report = await _reconcile(request.app[BACKEND], p, repair=True)
    await audit(
        request, p.workspace.id, "drift.repair", p.portal, f"{report.found} found, {report.repaired} repaired"
    )
    notice = (
        f"Repair done: {report.repaired} of {report.found} difference(s) repaired. "
        "Reload the report to check that nothing is left."
    )
    return _drift_page(request, p, report, notice)
