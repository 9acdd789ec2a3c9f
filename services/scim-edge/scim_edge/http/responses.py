"""SCIM responses: always JSON with `Content-Type: application/scim+json` (RFC 7644 §3.1), errors included."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scim_core import errors
from suite_common import jsonutil

SCIM_CONTENT_TYPE = "application/scim+json"


def scim_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=jsonutil.dumps(body),
        status=status,
        headers=headers,
        content_type=SCIM_CONTENT_TYPE,
        charset="utf-8",
    )


def scim_error(error: errors.ScimError, headers: dict[str, str] | None = None) -> web.Response:
    extra = dict(headers or {})
    if isinstance(error, errors.Unauthorized):
        extra.setdefault("WWW-Authenticate", 'Bearer realm="scim"')
    if isinstance(error, errors.Unavailable | errors.TooManyRequests):
        extra.setdefault("Retry-After", "1" if isinstance(error, errors.TooManyRequests) else "5")
    return scim_json(error.to_error(), status=error.status, headers=extra)
