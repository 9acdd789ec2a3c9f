"""Liveness and readiness for Kubernetes: /healthz says the process runs, /readyz that it can serve."""

from __future__ import annotations

from aiohttp import web

from scim_edge.http.context import DIRECTORY
from scim_edge.http.responses import scim_json

DRAINING = web.AppKey("draining", list)  # [bool]: flipped on SIGTERM so readiness drops first


async def healthz(request: web.Request) -> web.Response:
    return scim_json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[DRAINING][0]:
        return scim_json({"status": "draining"}, status=503)
    if not await request.app[DIRECTORY].serving():
        return scim_json({"status": "directory unavailable"}, status=503)
    return scim_json({"status": "ready"})
