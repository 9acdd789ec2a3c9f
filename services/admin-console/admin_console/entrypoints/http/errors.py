"""Failures become pages, in one place: 404 for unknown or foreign ids, 503 when a backend is away, and
a 500 with an incident id (details in the log only) for anything else. Never a traceback."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from admin_console.adapters.backend import NotFound, Unavailable
from admin_console.entrypoints.http.context import PageNotFound
from admin_console.entrypoints.http.render import page

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return page(request, "error.html", {"title": title, "message": message}, status=status)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (PageNotFound, NotFound):
        return _page(request, 404, "Not found", "There is no such page, or it belongs to another workspace.")
    except web.HTTPNotFound:
        return _page(request, 404, "Not found", "There is no such page.")
    except web.HTTPMethodNotAllowed:
        return _page(request, 405, "Not allowed", "That action is not available here.")
    except web.HTTPException:
        raise
    except Unavailable as exc:
        log.warning("backend unavailable", extra={"path": request.path, "error": str(exc)})
        return _page(
            request,
            503,
            "Unavailable",
            "The directory or portal service is not reachable. Try again shortly.",
        )
    except Exception:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error", extra={"incident": incident, "path": request.path})
        return _page(request, 500, "Something went wrong", f"Internal error; incident {incident}.")
