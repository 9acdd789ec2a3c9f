"""The SCIM edge's route templates, by which every request is traced, measured and logged.

The SCIM router is a catch-all dispatcher (resource names are case-insensitive), so aiohttp's own route
says nothing useful; the template is computed here from the path instead. Spans and series are keyed by
that template (`POST /scim/v2/{connection_id}/Users`), never by the raw path, which holds tenant ids and
resource ids and would make every request its own series. The middleware itself is the suite's
(`suite_common.web`).
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from suite_common.web import OPERATIONAL

from scim_edge.http.context import REQUEST_ID

SCIM_PREFIX = "/scim/v2/{connection_id}"
UNMATCHED = "unmatched"
_ENDPOINTS = {
    "users": "Users",
    "groups": "Groups",
    "bulk": "Bulk",
    "me": "Me",
    "serviceproviderconfig": "ServiceProviderConfig",
    "resourcetypes": "ResourceTypes",
    "schemas": "Schemas",
}
_WITH_ID = {"Users", "Groups", "ResourceTypes", "Schemas"}


def route_template(path: str) -> str:
    """`/scim/v2/abc/users/42` -> `/scim/v2/{connection_id}/Users/{id}`; anything unknown -> `unmatched`."""
    if path in OPERATIONAL:
        return path
    parts = [p for p in path.split("/") if p]
    if parts[:2] != ["scim", "v2"] or len(parts) < 3:
        return UNMATCHED
    tail = parts[3:]
    if not tail:
        return SCIM_PREFIX
    endpoint = _ENDPOINTS.get(tail[0].lower())
    if endpoint is None or len(tail) > 2:
        return UNMATCHED
    if len(tail) == 1:
        return f"{SCIM_PREFIX}/{endpoint}"
    if endpoint in ("Users", "Groups") and tail[1].lower() == ".search":
        return f"{SCIM_PREFIX}/{endpoint}/.search"
    return f"{SCIM_PREFIX}/{endpoint}/{{id}}" if endpoint in _WITH_ID else UNMATCHED


def log_fields(request: web.Request) -> Mapping[str, object]:
    """What each request's log line says besides the route: the tenant's connection and the request id."""
    return {
        "connection_id": request.match_info.get("connection_id", ""),
        "request_id": request.get(REQUEST_ID, ""),
    }
