"""Reading a SCIM request body: content type, size limit (checked before reading) and JSON parsing."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scim_core import errors
from suite_common import jsonutil

from scim_edge.http.context import RAW_BODY

# SCIM documents nest a few levels (a PATCH value inside an operation inside the request); orjson parses
# up to 1024 levels but serialises only up to 254, so a deeper body would parse here and then fail with a
# 500 when forwarded. Anything deeper than this is refused as invalid syntax.
MAX_DEPTH = 64
# PostgreSQL text and jsonb cannot hold U+0000, so a string carrying one could never be stored.
NUL = "\x00"


def _json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    # application/scim+json and application/json both occur in real traffic (idp-clients §1.2).
    return media in ("", "application/json", "application/scim+json", "text/json") or media.endswith("+json")


async def read_json(request: web.Request, max_bytes: int) -> Any:
    if request.content_length is not None and request.content_length > max_bytes:
        raise errors.PayloadTooLarge(f"request body exceeds {max_bytes} bytes")
    if not _json_media_type(request.headers.get("Content-Type", "")):
        raise errors.UnsupportedMedia("send application/scim+json or application/json")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        raw += chunk
        if len(raw) > max_bytes:
            raise errors.PayloadTooLarge(f"request body exceeds {max_bytes} bytes")
    data = bytes(raw)
    request[RAW_BODY] = data
    if not data.strip():
        raise errors.InvalidSyntax("request body is empty")
    try:
        body = jsonutil.loads(data)
    except jsonutil.JSONDecodeError as exc:
        raise errors.InvalidSyntax("request body is not valid JSON") from exc
    _check_storable(body)
    return body


def _check_storable(value: Any) -> None:
    """Refuse what parses but could never be forwarded or stored. Iterative, so that the check itself
    cannot hit the recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                raise errors.InvalidValue("strings must not contain the NUL character (U+0000)")
        elif isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise errors.InvalidSyntax(f"request body nests deeper than {MAX_DEPTH} levels")
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


async def read_object(request: web.Request, max_bytes: int) -> dict[str, Any]:
    body = await read_json(request, max_bytes)
    if not isinstance(body, dict):
        raise errors.InvalidSyntax("request body must be a JSON object")
    return body
