"""The middleware that hands every SCIM request to the provisioning log, after it has been answered.

It sits inside the observability middleware and outside the SCIM error middleware, so it sees the final
status and body of errors too. Requests with a wrong token on a connection's URL are recorded on that
connection (the directory drops records for connection ids that do not exist); the token itself is never
kept, only its SHA-256 (what the directory stores anyway) so the directory can mark its last use.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from scim_edge.http.context import CLIENT_IDP, RAW_BODY, RECORDER, REQUEST_ID
from scim_edge.provisioning_log.record import Seen

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _token_digest(authorization: str) -> bytes:
    """SHA-256 of the token in `Bearer <t>` or Okta's bare header mode, as the directory hashes it."""
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" and rest else value
    return hashlib.sha256(token.encode()).digest() if token else b""


@web.middleware
async def record_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    connection_id = request.match_info.get("connection_id", "")
    recorder = request.app.get(RECORDER)
    if not connection_id or recorder is None:
        return await handler(request)
    started_wall, started = time.time(), time.perf_counter()
    status, body = 500, b""
    try:
        response = await handler(request)
        status = response.status
        if isinstance(response, web.Response) and isinstance(response.body, bytes):
            body = response.body
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        try:
            request_body, request_size = recorder.hold(request.get(RAW_BODY, b""))
            response_body, response_size = recorder.hold(body)
            recorder.offer(
                Seen(
                    connection_id=connection_id,
                    started_at=started_wall,
                    latency_ms=(time.perf_counter() - started) * 1000.0,
                    request_id=request.get(REQUEST_ID, ""),
                    method=request.method,
                    path_tail=request.path.split(connection_id, 1)[-1],
                    query=request.query_string,
                    status=status,
                    user_agent=request.headers.get("User-Agent", ""),
                    token_sha256=_token_digest(request.headers.get("Authorization", "")),
                    request_body=request_body,
                    response_body=response_body,
                    request_size=request_size,
                    response_size=response_size,
                    idp=request.get(CLIENT_IDP, ""),
                )
            )
        except Exception:  # the log must never fail a SCIM request
            log.exception("provisioning-log capture failed")
