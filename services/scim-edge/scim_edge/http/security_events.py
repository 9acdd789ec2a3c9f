"""Receivers' endpoints for the SET streams of security-events (RFC 9967), off the SCIM routes.

- `GET /scim-events/streams/{stream_id}/jwks.json`: the stream's JWK Set (public keys, RFC 7517 §5), with
  the previous key kept during a rotation's overlap.
- `POST /scim-events/poll`: RFC 8936 polling, authenticated with the receiver's own bearer token (the one
  `scimctl streams receivers add --delivery poll` printed). Body per RFC 8936 §2.4: `ack`, `setErrs`,
  `maxEvents`, `returnImmediately`; answer `{"sets": {jti: SET}, "moreAvailable": bool}`.

Errors use the RFC 8935 §2.4 form (`{"err", "description"}`), as RFC 8936 §2.4.4 does for polls.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from scim_edge.adapters.security_events_client import (
    PollUnauthorized,
    SecurityEventsClient,
    TransmitterUnavailable,
    UnknownStream,
)

SECURITY_EVENTS = web.AppKey("security_events", SecurityEventsClient)
MAX_POLL_BODY = 1024 * 1024


def _error(status: int, err: str, description: str, **headers: str) -> web.Response:
    body = json.dumps({"err": err, "description": description})
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def _client(request: web.Request) -> SecurityEventsClient | None:
    return request.app.get(SECURITY_EVENTS)


async def jwks(request: web.Request) -> web.StreamResponse:
    client = _client(request)
    if client is None:
        return _error(404, "not_found", "security events are not enabled on this edge")
    try:
        body = await client.jwks(request.match_info["stream_id"])
    except UnknownStream:
        return _error(404, "not_found", "no such stream")
    except TransmitterUnavailable:
        return _error(
            503, "unavailable", "security events are unavailable; retry later", **{"Retry-After": "1"}
        )
    return web.Response(
        body=body, content_type="application/jwk-set+json", headers={"Cache-Control": "max-age=300"}
    )


def _parse_poll(doc: Any) -> tuple[list[str], dict[str, tuple[str, str]], int | None, bool]:
    if not isinstance(doc, dict):
        raise ValueError("the body must be a JSON object")
    ack = doc.get("ack", [])
    if not isinstance(ack, list) or not all(isinstance(j, str) for j in ack):
        raise ValueError("ack must be an array of jti strings")
    raw_errs = doc.get("setErrs", {})
    if not isinstance(raw_errs, dict):
        raise ValueError("setErrs must be an object keyed by jti")
    set_errs: dict[str, tuple[str, str]] = {}
    for jti, e in raw_errs.items():
        if not isinstance(e, dict) or not isinstance(e.get("err"), str):
            raise ValueError(f"setErrs[{jti!r}] must be an object with a string err")
        set_errs[jti] = (e["err"], str(e.get("description") or ""))
    max_events = doc.get("maxEvents")
    if max_events is not None and (
        isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0
    ):
        raise ValueError("maxEvents must be a non-negative integer")
    immediate = doc.get("returnImmediately", False)
    if not isinstance(immediate, bool):
        raise ValueError("returnImmediately must be a boolean")
    return ack, set_errs, max_events, immediate


async def poll(request: web.Request) -> web.StreamResponse:
    client = _client(request)
    if client is None:
        return _error(404, "not_found", "security events are not enabled on this edge")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(
            401,
            "authentication_failed",
            "send Authorization: Bearer <poll token>",
            **{"WWW-Authenticate": "Bearer"},
        )
    if (request.content_length or 0) > MAX_POLL_BODY:
        return _error(400, "invalid_request", "the poll request is too large")
    raw = await request.read()
    try:
        ack, set_errs, max_events, immediate = _parse_poll(json.loads(raw) if raw.strip() else {})
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        return _error(400, "invalid_request", str(exc))
    try:
        answer = await client.poll(token.strip(), ack, set_errs, max_events, immediate)
    except PollUnauthorized:
        return _error(401, "authentication_failed", "unknown poll token", **{"WWW-Authenticate": "Bearer"})
    except TransmitterUnavailable:
        return _error(
            503, "unavailable", "security events are unavailable; retry later", **{"Retry-After": "1"}
        )
    return web.json_response({"sets": answer.sets, "moreAvailable": answer.more_available})
