"""The SCIM edge's route templates, by which every request is traced, measured and logged.

The SCIM router is a catch-all dispatcher (resource names are case-insensitive), so aiohttp's own route
says nothing useful; the template is computed here from the path instead. Spans and series are keyed by
that template (`POST /scim/v2/{connection_id}/Users`), never by the raw path, which holds tenant ids and
resource ids and would make every request its own series. The middleware itself is the suite's
(`suite_common.web`); `recognise_idp` adds the identity provider recognised in each request (issue 11).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from suite_common.web import OPERATIONAL

from scim_edge.http.context import CLIENT_IDP, PROFILE, REQUEST_ID
from scim_edge.scim import idp

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

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
    """What each request's log line says besides the route: the tenant's connection, the request id, the
    IdP recognised in the request and the profile the directory answered with."""
    return {
        "connection_id": request.match_info.get("connection_id", ""),
        "request_id": request.get(REQUEST_ID, ""),
        "idp": request.get(CLIENT_IDP, idp.UNKNOWN),
        "profile": request.get(PROFILE, "none"),
    }


class IdpMetrics:
    """SCIM requests by IdP and profile. Bounded labels: `idp` is okta | entra | unknown
    (scim_edge.scim.idp), `profile` the one the directory answered with (okta | entra | generic), or
    `none` when the request made no resource call."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.by_idp = Counter(
            "scim_requests_by_idp",
            "SCIM requests by the identity provider recognised in them and the profile that answered them.",
            ["idp", "profile"],
            registry=registry,
        )


IDP_METRICS = web.AppKey("idp_metrics", IdpMetrics)


@web.middleware
async def recognise_idp(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Recognise the IdP from headers and URL before any handler runs (handlers refine it from the body),
    and count the request by IdP and profile once it is answered."""
    request[CLIENT_IDP] = idp.from_request(request.headers, request.query.keys())
    try:
        return await handler(request)
    finally:
        if route_template(request.path) not in (UNMATCHED, *OPERATIONAL):
            request.app[IDP_METRICS].by_idp.labels(request[CLIENT_IDP], request.get(PROFILE, "none")).inc()
