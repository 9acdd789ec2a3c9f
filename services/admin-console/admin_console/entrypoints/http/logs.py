"""The provisioning log of one connection: newest first, filters, a detail view and a live tail.

The page works without JavaScript (filters are a GET form, paging is a link); a small script polls
`log.json?after=<newest id>` and prepends new rows.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scimsuite.console.v1 import console_pb2

from admin_console.entrypoints.http.context import BACKEND, PageNotFound, connected_portal, name_of
from admin_console.entrypoints.http.filters import IDP_NAMES, when
from admin_console.entrypoints.http.render import page

PAGE = 50
RESOURCES = ("", "User", "Group", "other")
METHODS = ("", "GET", "POST", "PUT", "PATCH", "DELETE")


def _filters(request: web.Request) -> dict[str, Any]:
    q = request.query
    resource = q.get("resource", "")
    method = q.get("method", "").upper()
    return {
        "errors_only": q.get("errors") == "1",
        "resource": resource if resource in RESOURCES else "",
        "user": q.get("user", "").strip()[:300],
        "method": method if method in METHODS else "",
    }


def _int(value: str) -> int:
    return int(value) if value.isdigit() else 0


def _entry_json(e: console_pb2.LogEntry, base: str) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": when(e.at),
        "method": e.method,
        "path": e.path,
        "query": e.query,
        "status": e.status,
        "scim_type": e.scim_type,
        "detail": e.detail,
        "latency_ms": round(e.latency_ms, 1),
        "idp": IDP_NAMES.get(e.idp, e.idp),
        "request_id": e.request_id,
        "href": f"{base}/log/{e.id}",
    }


async def _page(
    request: web.Request, after_id: int = 0
) -> tuple[Any, console_pb2.ListRequestLogResponse, dict[str, Any]]:
    backend = request.app[BACKEND]
    p, connection = await connected_portal(request)
    f = _filters(request)
    reply = await backend.call(
        backend.console.ListRequestLog,
        console_pb2.ListRequestLogRequest(
            connection_id=connection.id,
            errors_only=f["errors_only"],
            resource_type=f["resource"],
            user=f["user"],
            method=f["method"],
            before_id=_int(request.query.get("before", "")),
            after_id=after_id,
            limit=PAGE,
        ),
    )
    return p, reply, f


async def log_page(request: web.Request) -> web.Response:
    p, reply, f = await _page(request)
    entries = list(reply.entries)
    query = {k: v for k, v in request.query.items() if k in ("errors", "resource", "user", "method") and v}
    return page(
        request,
        "log.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "entries": entries,
            "filters": f,
            "resources": RESOURCES,
            "methods": METHODS,
            "older": entries[-1].id if reply.more and entries else 0,
            "newest": entries[0].id if entries and not request.query.get("before") else 0,
            "query": query,
        },
    )


async def log_json(request: web.Request) -> web.Response:
    """The live tail: entries newer than `after`, newest first."""
    p, reply, _ = await _page(request, after_id=max(1, _int(request.query.get("after", "0"))))
    base = f"/workspaces/{p.workspace.id}/{p.portal}"
    return web.json_response({"entries": [_entry_json(e, base) for e in reply.entries]})


async def log_entry(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, connection = await connected_portal(request)
    entry_id = _int(request.match_info["entry"])
    if not entry_id:
        raise PageNotFound("no such log entry")
    entry = await backend.call(
        backend.console.GetRequestLog,
        console_pb2.GetRequestLogRequest(connection_id=connection.id, id=entry_id),
    )
    return page(request, "log_entry.html", {"p": p, "portal_name": name_of(p), "e": entry})
