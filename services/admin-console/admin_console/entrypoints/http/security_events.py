"""A portal's security event streams (issue 15, docs/security-events.md): its SET stream with the keys'
ids and JWKS path, and the stream's receivers with their delivery counts; create and delete the stream,
add and remove receivers. A receiver's secret (push Authorization, poll token) is never shown again after
it is added: security-events keeps the poll token as a hash only."""

from __future__ import annotations

from aiohttp import web
from scimsuite.events_out.v1 import events_out_pb2

from admin_console.adapters.backend import Rejected
from admin_console.domain.receivers import ALGS, DELIVERIES, parse_receiver
from admin_console.entrypoints.http.context import (
    BACKEND,
    PageNotFound,
    Portal,
    audit,
    connected_portal,
    name_of,
)
from admin_console.entrypoints.http.render import page, redirect


def _base(p: Portal) -> str:
    return f"/workspaces/{p.workspace.id}/{p.portal}/events"


async def _stream(request: web.Request, p: Portal) -> events_out_pb2.Stream | None:
    """This portal's stream, if any: a stream or receiver id from a form is only trusted if it is here."""
    backend = request.app[BACKEND]
    reply = await backend.call(
        backend.events.ListStreams, events_out_pb2.ListStreamsRequest(workspace_id=p.workspace.id)
    )
    return next((s for s in reply.streams if s.portal == p.portal), None)


async def render_events(
    request: web.Request,
    p: Portal,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return page(
        request,
        "events.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "stream": await _stream(request, p),
            "algs": ALGS,
            "deliveries": DELIVERIES,
            "values": values or {"delivery": "push"},
            "errors": errors or {},
        },
        status=status,
    )


async def events_page(request: web.Request) -> web.Response:
    p, _ = await connected_portal(request)
    return await render_events(request, p)


async def create_stream(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    alg = str((await request.post()).get("alg", "ES256"))
    if alg not in ALGS:
        return await render_events(
            request, p, {"alg": "Choose the signing algorithm: ES256 or RS256."}, None, 400
        )
    if await _stream(request, p) is not None:
        raise redirect(_base(p))
    try:
        created = await backend.call(
            backend.events.CreateStream,
            events_out_pb2.CreateStreamRequest(workspace_id=p.workspace.id, portal=p.portal, alg=alg),
        )
    except Rejected as exc:
        return await render_events(request, p, {"alg": str(exc)}, None, 400)
    await audit(request, p.workspace.id, "events.stream.create", p.portal, f"stream {created.id} ({alg})")
    raise redirect(_base(p), "stream-created")


async def delete_stream(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    stream = await _stream(request, p)
    if stream is None or str((await request.post()).get("stream_id", "")) != stream.id:
        raise PageNotFound("no such stream on this portal")
    await backend.call(backend.events.DeleteStream, events_out_pb2.StreamRef(stream_id=stream.id))
    await audit(request, p.workspace.id, "events.stream.delete", p.portal, f"stream {stream.id}")
    raise redirect(_base(p), "stream-deleted")


async def add_receiver(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    stream = await _stream(request, p)
    if stream is None:
        raise redirect(_base(p))
    form = {k: str(v) for k, v in (await request.post()).items() if k != "csrf"}
    # The secret is never echoed back into a page, not even a refused form.
    kept = {k: v for k, v in form.items() if k != "authorization"}
    choice, errors = parse_receiver(form)
    if choice is None:
        return await render_events(request, p, errors, kept, 400)
    try:
        added = await backend.call(
            backend.events.AddReceiver,
            events_out_pb2.AddReceiverRequest(
                stream_id=stream.id,
                delivery=choice.delivery,
                endpoint_url=choice.endpoint_url,
                authorization=choice.authorization,
                audience=choice.audience,
                events=list(choice.events),
            ),
        )
    except Rejected as exc:
        field = "endpoint_url" if choice.delivery == "push" else "events"
        return await render_events(request, p, {field: str(exc)}, kept, 400)
    receiver = added.receiver
    await audit(
        request,
        p.workspace.id,
        "events.receiver.add",
        p.portal,
        f"{receiver.delivery} receiver {receiver.id}"
        + (f" to {receiver.endpoint_url}" if receiver.endpoint_url else ""),
    )
    if not added.poll_token:
        raise redirect(_base(p), "receiver-added")
    response = page(
        request,
        "receiver_token.html",
        {"p": p, "portal_name": name_of(p), "receiver": receiver, "poll_token": added.poll_token},
    )
    # The poll token is in this answer only: never cached, never shown again.
    response.headers["Cache-Control"] = "no-store"
    return response


async def remove_receiver(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, _ = await connected_portal(request)
    stream = await _stream(request, p)
    receiver_id = str((await request.post()).get("receiver_id", ""))
    if stream is None or receiver_id not in {r.id for r in stream.receivers}:
        raise PageNotFound("no such receiver on this portal")
    await backend.call(
        backend.events.RemoveReceiver, events_out_pb2.RemoveReceiverRequest(receiver_id=receiver_id)
    )
    await audit(request, p.workspace.id, "events.receiver.remove", p.portal, f"receiver {receiver_id}")
    raise redirect(_base(p), "receiver-removed")
