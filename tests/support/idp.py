"""Okta- and Entra-shaped SCIM conversations over a ScimClient (shapes from idp-clients.md §1 and §2).

Each method sends what the IdP sends for one admin action, asserts the status the IdP requires, and
returns what a later step needs (a resource id).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.scim_client import ScimClient

OKTA = {"User-Agent": "Okta SCIM Client 1.0.0"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Okta:
    def __init__(self, scim: ScimClient) -> None:
        self.scim = scim

    async def create_user(self, user_name: str, **extra: Any) -> str:
        """§1.4: look the user up by userName, then POST the Okta profile."""
        lookup = await self.scim.get(
            "/Users",
            params={"filter": f'userName eq "{user_name}"', "startIndex": "1", "count": "100"},
            headers=OKTA,
        )
        assert lookup.status == 200 and lookup.json["totalResults"] == 0, lookup
        body = {
            "schemas": [USER, *(k for k in extra if k.startswith("urn:"))],
            "userName": user_name,
            "name": {"givenName": user_name.split("@")[0].split(".")[0].title(), "familyName": "Tester"},
            "emails": [{"primary": True, "value": user_name, "type": "work"}],
            "displayName": user_name,
            "locale": "en-US",
            "externalId": f"00u{uuid.uuid4().hex[:17]}",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
            **extra,
        }
        created = await self.scim.post("/Users", body, headers=OKTA)
        assert created.status == 201, created
        return str(created.json["id"])

    async def update_user(self, user_id: str, **changes: Any) -> None:
        """§1.6: GET the user, change the mapped attributes, PUT the whole body back."""
        current = await self.scim.get(f"/Users/{user_id}", headers=OKTA)
        assert current.status == 200, current
        body = {**current.json, **changes}
        replaced = await self.scim.put(f"/Users/{user_id}", body, headers=OKTA)
        assert replaced.status == 200, replaced

    async def set_active(self, user_id: str, active: bool) -> None:
        """§1.7 (OIN app): a PATCH with no path whose value is `{"active": ...}`."""
        body = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": active}}]}
        patched = await self.scim.patch(f"/Users/{user_id}", body, headers=OKTA)
        assert patched.status in (200, 204), patched

    async def deactivate_by_put(self, user_id: str) -> None:
        """§1.7 (AIW app): GET, then PUT the whole user with `active: false`."""
        await self.update_user(user_id, active=False)

    async def push_group(self, name: str, member_ids: list[str]) -> str:
        """§1.8 Push Groups: the exists check, POST with no members, then a PATCH adding them, followed by
        the no-path rename Okta sends after every membership update."""
        found = await self.scim.get("/Groups", params={"filter": f'displayName eq "{name}"'}, headers=OKTA)
        assert found.status == 200 and found.json["totalResults"] == 0, found
        created = await self.scim.post(
            "/Groups", {"schemas": [GROUP], "displayName": name, "members": []}, headers=OKTA
        )
        assert created.status == 201, created
        gid = str(created.json["id"])
        if member_ids:
            await self.add_members(gid, member_ids)
        return gid

    async def add_members(self, group_id: str, user_ids: list[str]) -> None:
        ops = [{"op": "add", "path": "members", "value": [{"value": u, "display": u} for u in user_ids]}]
        await self._patch_group(group_id, ops)

    async def remove_member(self, group_id: str, user_id: str) -> None:
        await self._patch_group(group_id, [{"op": "remove", "path": f'members[value eq "{user_id}"]'}])

    async def remove_members(self, group_id: str, user_ids: list[str]) -> None:
        """One request with one `remove` per member, as Okta sends a large removal (§1.8)."""
        await self._patch_group(
            group_id, [{"op": "remove", "path": f'members[value eq "{u}"]'} for u in user_ids]
        )

    async def rename_group(self, group_id: str, name: str) -> None:
        await self._patch_group(group_id, [{"op": "replace", "value": {"id": group_id, "displayName": name}}])

    async def delete_group(self, group_id: str) -> None:
        deleted = await self.scim.delete(f"/Groups/{group_id}", headers=OKTA)
        assert deleted.status == 204, deleted

    async def _patch_group(self, group_id: str, ops: list[dict[str, Any]]) -> None:
        patched = await self.scim.patch(
            f"/Groups/{group_id}", {"schemas": [PATCH], "Operations": ops}, headers=OKTA
        )
        assert patched.status in (200, 204), patched


class Entra:
    def __init__(self, scim: ScimClient) -> None:
        self.scim = scim

    async def set_active(self, user_id: str, active: bool) -> None:
        """§2.6 without the aadOptscim062020 flag: `active` as the string "True" or "False"."""
        body = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": str(active)}]}
        patched = await self.scim.patch(f"/Users/{user_id}", body)
        assert patched.status in (200, 204), patched

    async def delete_user(self, user_id: str) -> None:
        """§2.6: the hard delete, 30 days after a soft delete or for apps without soft delete."""
        deleted = await self.scim.delete(f"/Users/{user_id}")
        assert deleted.status == 204, deleted
