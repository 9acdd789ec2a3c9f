"""The admin console over real HTTP, as a browser without JavaScript uses it: cookies, forms, CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp

CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass
class Page:
    status: int
    url: str
    text: str
    headers: Any

    @property
    def csrf(self) -> str:
        match = CSRF.search(self.text)
        assert match, f"no CSRF field on {self.url}"
        return match.group(1)


class ConsoleClient:
    def __init__(self, url: str) -> None:
        self.url = url
        # unsafe: keep cookies for an IP-address host (the console listens on 127.0.0.1 in tests).
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str, *, follow: bool = True, **kw: Any) -> Page:
        async with self.session.get(self.url + path, allow_redirects=follow, **kw) as r:
            return Page(r.status, str(r.url), await r.text(), r.headers)

    async def post(self, path: str, data: dict[str, str], *, follow: bool = True) -> Page:
        async with self.session.post(self.url + path, data=data, allow_redirects=follow) as r:
            return Page(r.status, str(r.url), await r.text(), r.headers)

    async def submit(self, form_page: str, action: str, data: dict[str, str]) -> Page:
        """Open `form_page`, take its CSRF token, post `data` to `action`."""
        page = await self.get(form_page)
        return await self.post(action, {"csrf": page.csrf, **data})

    async def sign_in(self, token: str) -> Page:
        page = await self.get("/sign-in")
        return await self.post("/sign-in", {"csrf": page.csrf, "admin_token": token, "next": "/workspaces"})
