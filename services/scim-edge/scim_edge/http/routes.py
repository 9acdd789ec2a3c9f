"""Routing under `/scim/v2/{connection_id}/`: resource paths are case-insensitive, a trailing slash is fine,
and unknown query parameters (Entra's `?aadOptscim062020`) are ignored.
"""

from __future__ import annotations

from aiohttp import web
from scim_core import errors
from scim_core.kinds import ResourceKind

from scim_edge.http import discovery, resources
from scim_edge.http.bulk import bulk
from scim_edge.http.context import call_context

RESOURCE_KINDS = {kind.endpoint.lower(): kind for kind in ResourceKind}
DISCOVERY = {"serviceproviderconfig", "resourcetypes", "schemas"}


def _not_allowed(method: str, path: str) -> errors.MethodNotAllowed:
    return errors.MethodNotAllowed(f"{method} is not allowed on {path}")


async def dispatch(request: web.Request) -> web.StreamResponse:
    tail = [p for p in request.match_info.get("tail", "").split("/") if p]
    method = request.method
    head = tail[0].lower() if tail else ""

    # Method checks come before authentication for read-only endpoints, so that a POST of junk to
    # /Schemas is a 405 (Okta's SPEC test), not a body or auth error.
    if head in DISCOVERY and method != "GET":
        raise _not_allowed(method, request.path)
    if head == "me":
        call_context(request)
        # RFC 7644 §3.11 maps /Me to the authenticated subject's User; a connection token authenticates a
        # provisioning client acting for the whole connection, so there is no such User to name.
        raise errors.NotImplementedByUs(
            "/Me is not available: this credential is a provisioning token for a SCIM connection, not a user;"
            " use /Users/{id}"
        )

    call = call_context(request)
    if head == "serviceproviderconfig" and len(tail) == 1:
        return await discovery.service_provider_config(call)
    if head == "resourcetypes" and len(tail) <= 2:
        return await discovery.resource_types(call, tail[1] if len(tail) == 2 else None)
    if head == "schemas" and len(tail) <= 2:
        return await discovery.schemas(call, tail[1] if len(tail) == 2 else None)
    if head == "bulk" and len(tail) == 1:
        if method != "POST":
            raise _not_allowed(method, request.path)
        return await bulk(request, call)

    if not tail or (head == ".search" and len(tail) == 1):
        # RFC 7644 §3.4.2.1 / §3.4.3 queries at the root span every resource type; we answer them with
        # 501 (RFC 7644 §3.12), which tells a client the operation exists but is not offered here.
        if method not in ("GET", "POST") or (method == "POST") != (head == ".search"):
            raise _not_allowed(method, request.path)
        raise errors.NotImplementedByUs(
            "searching several resource types at once is not supported; query /Users or /Groups"
        )
    kind = RESOURCE_KINDS.get(head)
    if kind is None:
        raise errors.NotFound(f"no endpoint {request.path}")
    if len(tail) == 1:
        if method == "GET":
            return await resources.list_via_get(request, call, kind)
        if method == "POST":
            return await resources.create_resource(request, call, kind)
        raise _not_allowed(method, request.path)
    if len(tail) == 2 and tail[1].lower() == ".search":
        if method != "POST":
            raise _not_allowed(method, request.path)
        return await resources.list_via_search(request, call, kind)
    if len(tail) == 2:
        rid = tail[1]
        if method == "GET":
            return await resources.get_resource(request, call, kind, rid)
        if method == "PUT":
            return await resources.replace_resource(request, call, kind, rid)
        if method == "PATCH":
            return await resources.patch_resource(request, call, kind, rid)
        if method == "DELETE":
            return await resources.delete_resource(request, call, kind, rid)
        raise _not_allowed(method, request.path)
    raise errors.NotFound(f"no endpoint {request.path}")


async def not_found(request: web.Request) -> web.StreamResponse:
    raise errors.NotFound(f"no endpoint {request.path}")
