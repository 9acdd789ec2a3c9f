"""Reading a SCIM request body: content type, size limit (checked before reading) and JSON parsing."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scim_core import errors
from suite_common import jsonutil


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
    if not raw.strip():
        raise errors.InvalidSyntax("request body is empty")
    try:
        return jsonutil.loads(bytes(raw))
    except jsonutil.JSONDecodeError as exc:
        raise errors.InvalidSyntax("request body is not valid JSON") from exc


async def read_object(request: web.Request, max_bytes: int) -> dict[str, Any]:
    body = await read_json(request, max_bytes)
    if not isinstance(body, dict):
        raise errors.InvalidSyntax("request body must be a JSON object")
    return body
