"""Request guards: every failure becomes an RFC 7644 §3.12 body, and a traceback never reaches a client."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from scim_core import errors

from scim_edge.http.context import REQUEST_ID
from scim_edge.http.responses import scim_error

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


_HTTP_TO_SCIM: dict[int, type[errors.ScimError]] = {
    400: errors.InvalidSyntax,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMedia,
}


@web.middleware
async def scim_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = request.headers.get("X-Request-Id") or str(uuid.uuid4())
    try:
        return await handler(request)
    except errors.ScimError as exc:
        return scim_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        cls = _HTTP_TO_SCIM.get(exc.status, errors.InternalError)
        return scim_error(cls(exc.reason or "request failed"))
    except Exception:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error", extra={"incident": incident, "path": request.path})
        return scim_error(errors.InternalError(f"internal error; incident {incident}"))
