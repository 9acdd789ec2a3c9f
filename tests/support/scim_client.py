"""A SCIM client over real HTTP, speaking to one tenant's Base URL through an edge."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from tests.support.admin import Tenant


class ScimResponse:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = body

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    def __repr__(self) -> str:
        return f"<ScimResponse {self.status} {self.raw[:300]!r}>"


class ScimClient:
    def __init__(self, session: aiohttp.ClientSession, edge_url: str, tenant: Tenant) -> None:
        self.session = session
        # Base URLs are issued with the public host; tests reach the same path on the edge's loopback port.
        self.base = tenant.on(edge_url)
        self.auth = f"Bearer {tenant.token}"

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        auth: str | None = None,
        params: dict[str, str] | None = None,
    ) -> ScimResponse:
        hdrs = {"Authorization": auth if auth is not None else self.auth, "Accept": "application/scim+json"}
        if body is not None or raw is not None:
            hdrs["Content-Type"] = "application/scim+json; charset=utf-8"
        hdrs.update(headers or {})
        if hdrs.get("Authorization") == "":
            del hdrs["Authorization"]
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        async with self.session.request(
            method, self.base + path, data=data, headers=hdrs, params=params
        ) as resp:
            return ScimResponse(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kw: Any) -> ScimResponse:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> ScimResponse:
        return await self.request("POST", path, body, **kw)

    async def put(self, path: str, body: Any = None, **kw: Any) -> ScimResponse:
        return await self.request("PUT", path, body, **kw)

    async def patch(self, path: str, body: Any = None, **kw: Any) -> ScimResponse:
        return await self.request("PATCH", path, body, **kw)

    async def delete(self, path: str, **kw: Any) -> ScimResponse:
        return await self.request("DELETE", path, **kw)
