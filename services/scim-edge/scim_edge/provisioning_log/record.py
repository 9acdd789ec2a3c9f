"""Turning what the edge saw of one request into a provisioning-log record (run by the flusher, off the
request path: parsing, redaction and truncation cost nothing to the SCIM client)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scimsuite.console.v1 import console_pb2

from scim_edge.provisioning_log.redact import keep

_RESOURCES = {"users": "User", "groups": "Group"}
# Okta's lookup (`filter=userName eq "x"`) names the user a request is about before it has an id.
_USERNAME_EQ = re.compile(r'username\s+eq\s+"((?:[^"\\]|\\.)*)"', re.IGNORECASE)


@dataclass(frozen=True)
class Seen:
    """Captured on the request path: references only, no copies, no parsing."""

    connection_id: str
    started_at: float  # time.time() when the request arrived
    latency_ms: float
    request_id: str
    method: str
    path_tail: str
    query: str
    status: int
    user_agent: str
    token_sha256: bytes
    request_body: bytes
    response_body: bytes
    # Sizes of the bodies as sent; a body over the parse limit is not held at all (its bytes are empty).
    request_size: int = 0
    response_size: int = 0
    idp: str = ""  # as recognised for this request (scim_edge.scim.idp)

    @property
    def held_bytes(self) -> int:
        return len(self.request_body) + len(self.response_body)


def _resource(path_tail: str) -> tuple[str, str]:
    parts = [p for p in path_tail.split("/") if p]
    kind = _RESOURCES.get(parts[0].lower(), "") if parts else ""
    rid = parts[1] if kind and len(parts) == 2 and parts[1].lower() != ".search" else ""
    return kind, rid


def _user_name(kind: str, query: str, request: Any, response: Any) -> str:
    for doc in (request, response):
        if kind == "User" and isinstance(doc, dict) and isinstance(doc.get("userName"), str):
            return str(doc["userName"])
    match = _USERNAME_EQ.search(query)
    return match.group(1).replace('\\"', '"') if match and kind == "User" else ""


def build(seen: Seen, path_prefix: str, max_bytes: int, parse_limit: int) -> console_pb2.RequestRecord:
    request = keep(seen.request_body, max_bytes, parse_limit, seen.request_size)
    response = keep(seen.response_body, max_bytes, parse_limit, seen.response_size)
    kind, rid = _resource(seen.path_tail)
    if (
        not rid
        and kind
        and seen.method == "POST"
        and isinstance(response.parsed, dict)
        and seen.status == 201
    ):
        rid = str(response.parsed.get("id", ""))
    scim_type = detail = ""
    if seen.status >= 400 and isinstance(response.parsed, dict):
        scim_type = str(response.parsed.get("scimType", "") or "")
        detail = str(response.parsed.get("detail", "") or "")[:1000]
    return console_pb2.RequestRecord(
        connection_id=seen.connection_id,
        at=datetime.fromtimestamp(seen.started_at, UTC).isoformat(),
        request_id=seen.request_id,
        method=seen.method,
        path=f"{path_prefix}/{seen.connection_id}{seen.path_tail}",
        query=seen.query[:2000],
        status=seen.status,
        scim_type=scim_type,
        detail=detail,
        latency_ms=seen.latency_ms,
        user_agent=seen.user_agent[:300],
        resource_type=kind,
        resource_id=rid[:100],
        user_name=_user_name(kind, seen.query, request.parsed, response.parsed)[:300],
        request_body=request.text,
        response_body=response.text,
        truncated=request.truncated or response.truncated,
        token_sha256=seen.token_sha256,
        idp=seen.idp,
    )
