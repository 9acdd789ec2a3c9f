"""Operations (outbox backlog, dead letters) and the admin audit of console changes."""

from __future__ import annotations

from aiohttp import web
from scimsuite.admin.v1 import admin_pb2
from scimsuite.console.v1 import console_pb2
from scimsuite.portal.v1 import portal_pb2

from admin_console.adapters.backend import NotFound
from admin_console.entrypoints.http.context import BACKEND, audit
from admin_console.entrypoints.http.render import page, redirect


async def operations(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    backend = request.app[BACKEND]
    outbox = await backend.call(backend.directory.OutboxStatus, admin_pb2.OutboxStatusRequest())
    lag = await backend.call(backend.console_portal.GetConsumerLag, console_pb2.ConsumerLagRequest())
    dead = await backend.call(backend.portal.ListDeadLetters, portal_pb2.ListDeadLettersRequest())
    return page(
        request,
        "operations.html",
        {"outbox": outbox, "lag": lag, "dead_letters": list(dead.dead_letters), "errors": errors or {}},
        status,
    )


async def replay(request: web.Request) -> web.Response:
    """Send a dead-lettered event through portal-actions again (after the cause is fixed)."""
    backend = request.app[BACKEND]
    event_id = str((await request.post()).get("event_id", "")).strip()
    if not event_id:
        return await operations(request, {"replay": "Name the dead letter to replay."}, 400)
    try:
        reply = await backend.call(
            backend.portal.ReplayDeadLetters, portal_pb2.ReplayDeadLettersRequest(event_id=event_id)
        )
    except NotFound:
        return await operations(request, {"replay": f"There is no dead letter {event_id!r} (any more)."}, 400)
    results = list(reply.replayed)
    failed = next((r for r in results if not r.applied), None)
    await audit(
        request, "", "dead-letter.replay", event_id, "applied" if results and failed is None else "failed"
    )
    if not results:
        return await operations(request, {"replay": f"There is no dead letter {event_id!r} (any more)."}, 400)
    if failed is not None:
        message = f"Event {event_id} could not be applied again: {failed.error}"
        return await operations(request, {"replay": message}, 400)
    raise redirect("/operations", "dead-letter-replayed")


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


async def replay_all(request: web.Request) -> web.Response:
    """Every dead letter again, oldest first; the ones that still fail stay, and the page says which."""
    backend = request.app[BACKEND]
    reply = await backend.call(
        backend.portal.ReplayDeadLetters, portal_pb2.ReplayDeadLettersRequest(all=True)
    )
    results = list(reply.replayed)
    failed = [r for r in results if not r.applied]
    await audit(
        request,
        "",
        "dead-letter.replay-all",
        "",
        f"{len(results) - len(failed)} applied, {len(failed)} failed",
    )
    if failed:
        listed = ", ".join(f"{r.event_id} ({r.error})" for r in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        message = (
            f"{len(results) - len(failed)} event(s) applied; {len(failed)} could not be applied again: "
            f"{listed}{more}"
        )
        return await operations(request, {"replay": message}, 400)
    raise redirect("/operations", "dead-letters-replayed")
