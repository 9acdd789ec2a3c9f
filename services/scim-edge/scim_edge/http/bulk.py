"""/Bulk (RFC 7644 §3.7): not implemented yet; announced as unsupported operations answer 501."""

from __future__ import annotations

from aiohttp import web
from scim_core import errors

from scim_edge.http.context import Call


async def bulk(request: web.Request, call: Call) -> web.StreamResponse:
    raise errors.NotImplementedByUs("/Bulk is not implemented yet")
