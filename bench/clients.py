"""The two IdP-shaped clients (idp-clients.md §0, §1, §2) and the HTTP targets they talk to.

Okta and Entra differ in headers, in the create body, in how they deactivate a user and in how they change
group membership. Both servers get byte-identical requests; only the base URL and auth header differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

from bench.dataset import user_body
from bench.load import WrongAnswer

PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@dataclass(frozen=True)
class Profile:
    name: str
    headers: dict[str, str]

    def create_body(self, user_name: str, i: int) -> dict[str, Any]:
        body = user_body(user_name, i, password=self.name == "okta")
        if self.name == "entra":
            # Entra lists the enterprise URN without an extension object, echoes `meta`, sends `roles: []`.
            body["schemas"] = [*body["schemas"], ENTERPRISE_URN]
            body["meta"] = {"resourceType": "User"}
            body["roles"] = []
            body["name"]["formatted"] = body["displayName"]
        return body

    def lookup_params(self, user_name: str) -> dict[str, str]:
        params = {"filter": f'userName eq "{user_name}"'}
        if self.name == "okta":
            params.update({"startIndex": "1", "count": "100"})
        return params

    def set_active_body(self, active: bool) -> dict[str, Any]:
        if self.name == "okta":
            return {"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": active}}]}
        # Entra: capitalised op, and the boolean as a string (idp-clients §0).
        return {
            "schemas": [PATCH_URN],
            "Operations": [{"op": "Replace", "path": "active", "value": str(active)}],
        }

    def add_members_body(self, members: list[tuple[str, str]]) -> dict[str, Any]:
        if self.name == "okta":
            okta = [{"value": uid, "display": name} for uid, name in members]
            return {"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "members", "value": okta}]}
        value: list[dict[str, str | None]] = [{"$ref": None, "value": uid} for uid, _ in members]
        return {"schemas": [PATCH_URN], "Operations": [{"op": "Add", "path": "members", "value": value}]}

    def remove_members_body(self, ids: list[str]) -> dict[str, Any]:
        if self.name == "okta":
            ops = [{"op": "remove", "path": f'members[value eq "{uid}"]'} for uid in ids]
            return {"schemas": [PATCH_URN], "Operations": ops}
        value = [{"$ref": None, "value": uid} for uid in ids]
        return {"schemas": [PATCH_URN], "Operations": [{"op": "Remove", "path": "members", "value": value}]}


OKTA = Profile(
    "okta",
    {
        "User-Agent": "Okta SCIM Client 1.0.0",
        "Accept": "application/scim+json",
        "Content-Type": "application/scim+json; charset=utf-8",
    },
)
ENTRA = Profile("entra", {"Accept": "application/scim+json", "Content-Type": "application/scim+json"})


@dataclass
class HttpTarget:
    """One SCIM service provider: `base` ends where `/Users` would follow."""

    name: str
    base: str
    auth: dict[str, str]
    session: aiohttp.ClientSession

    async def call(
        self,
        method: str,
        path: str,
        profile: Profile,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        hdrs = {**profile.headers, **self.auth, **(headers or {})}
        data = orjson.dumps(body) if body is not None else None
        if data is None:
            hdrs.pop("Content-Type", None)
        url = self.base + path + ("?" + urlencode(params) if params else "")
        async with self.session.request(method, url, data=data, headers=hdrs) as resp:
            raw = await resp.read()
            if resp.status not in expect:
                raise WrongAnswer(f"{method} {path} -> {resp.status}: {raw[:200]!r}")
            return resp.status, raw


def json_of(raw: bytes) -> Any:
    return orjson.loads(raw) if raw else None
