"""Where a bulk operation points: `path` is relative to the Base URL (RFC 7644 §3.7), e.g. `/Users/{id}`.

An operation whose path names no endpoint fails alone with 404, and one whose method does not fit
its path (POST to a resource, PUT to a collection) with 405, as the single-resource routes answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from scim_core import errors
from scim_core.kinds import ResourceKind

ENDPOINTS = {kind.endpoint.lower(): (kind, kind.endpoint) for kind in ResourceKind}


@dataclass(frozen=True)
class Target:
    kind: str  # a ResourceKind
    endpoint: str  # "Users" or "Groups", as the location URL spells it
    resource_id: str | None


def parse_target(method: str, path: str) -> Target:
    """The resource type and id of `path` (bulkIds already substituted), checked against `method`."""
    parts = [p for p in path.strip().split("/") if p]
    known = ENDPOINTS.get(parts[0].lower()) if parts and "?" not in path else None
    if known is None or len(parts) > 2:
        raise errors.NotFound(f"{path!r} is not a Users or Groups path")
    kind, endpoint = known
    resource_id = parts[1] if len(parts) == 2 else None
    if (method == "POST") != (resource_id is None):
        raise errors.MethodNotAllowed(f"{method} is not allowed on {path}")
    return Target(kind, endpoint, resource_id)
