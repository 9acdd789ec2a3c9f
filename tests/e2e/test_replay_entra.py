"""A Microsoft Entra ID provisioning cycle replayed against the live edge (idp-clients §2), once with the
default (2017-compatible) request shapes and once with `?aadOptscim062020` on the tenant URL (§2.9).

Entra queries by the matching attribute before each write, caches the id it gets, sets the manager in a
separate round trip, creates groups empty and PATCHes members in, and disables by PATCH on `active`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.payloads import payload
from tests.support.scim_asserts import ENTERPRISE_URN, assert_list, member_ids, patch_op
from tests.support.scim_client import ScimClient, ScimResponse

ENTRA = {"Content-Type": "application/scim+json"}


@dataclass
class Entra:
    """Entra's side of the conversation: the flag it appends and the shapes the flag selects."""

    scim: ScimClient
    flag: bool

    def url(self, path: str) -> str:
        if not self.flag:
            return path
        return path + ("&" if "?" in path else "?") + "aadOptscim062020"

    async def send(self, method: str, path: str, body: Any = None, **params: str) -> ScimResponse:
        # Entra sends no User-Agent on Test Connection (idp-clients §2.2); aiohttp's default is harmless.
        return await self.scim.request(method, self.url(path), body, headers=ENTRA, params=params or None)

    async def query(self, endpoint: str, scim_filter: str, **params: str) -> dict[str, Any]:
        return assert_list(await self.send("GET", endpoint, filter=scim_filter, **params))

    async def patch(self, path: str, body: dict[str, Any]) -> ScimResponse:
        resp = await self.send("PATCH", path, body)
        assert resp.status in (200, 204), resp
        return resp

    def disable(self, active: bool) -> dict[str, Any]:
        if self.flag:
            return patch_op({"op": "replace", "path": "active", "value": active})
        return patch_op({"op": "Replace", "path": "active", "value": "True" if active else "False"})

    def update_user(self) -> dict[str, Any]:
        if self.flag:
            return payload("entra-2.9-aadopt-multi-replace")
        return payload("entra-2.5-multi-replace")

    def remove_member(self, uid: str) -> dict[str, Any]:
        if self.flag:
            return payload("entra-2.8-remove-members-aadopt", {"7f4bc1a3-285e-48ae-8202-5accb43efb0e": uid})
        return payload("entra-2.8-remove-members", {"f648f8d5ea4e4cd38e9c": uid})


async def _create_user(entra: Entra, user_name: str, external_id: str) -> str:
    assert (await entra.query("/Users", f'userName eq "{user_name}"'))["totalResults"] == 0
    body = payload("entra-2.4-create-user")
    body.update(userName=user_name, externalId=external_id)
    created = await entra.send("POST", "/Users", body)
    assert created.status == 201, created
    return str(created.json["id"])


@pytest.mark.parametrize("flag", [False, True], ids=["default", "aadOptscim062020"])
async def test_entra_provisioning_cycle(scim: ScimClient, unique: str, flag: bool) -> None:
    entra = Entra(scim, flag)

    # Test Connection: a random GUID as the matching value, on users and groups.
    probe = await entra.query("/Users", f'userName eq "{uuid.uuid4()}"')
    assert probe["totalResults"] == 0 and probe["Resources"] == []
    assert (await entra.query("/Groups", f'displayName eq "{uuid.uuid4()}"'))["totalResults"] == 0

    # Initial cycle: create the manager and the user, each after a matching query.
    boss = await _create_user(entra, f"Boss_{unique}@contoso.com", f"boss-{unique}")
    uid = await _create_user(entra, f"Test_User_{unique}@contoso.com", f"ext-{unique}")
    by_external = await entra.query("/Users", f'externalId eq "ext-{unique}"')
    assert [r["id"] for r in by_external["Resources"]] == [uid]

    # The manager comes in a separate round trip, as the full-URN string form Entra really sends.
    await entra.patch(
        f"/Users/{uid}",
        payload("entra-2.7-manager-add-string", {"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2": boss}),
    )
    user = (await entra.send("GET", f"/Users/{uid}")).json
    assert user[ENTERPRISE_URN]["manager"]["value"] == boss

    # Incremental cycle: attribute updates in this flag's shape.
    await entra.patch(f"/Users/{uid}", entra.update_user())
    user = (await entra.send("GET", f"/Users/{uid}")).json
    work = [e["value"] for e in user["emails"] if e.get("type") == "work"]
    if flag:
        assert user["displayName"] == "Bjfe" and user["name"]["givenName"] == "Kkom"
        assert work == ["TestMhvaes@test.microsoft.com"] and user[ENTERPRISE_URN]["employeeNumber"] == "Aklq"
    else:
        assert user["displayName"] == "Pvlo" and user["name"] == {
            "formatted": "givenName familyName",
            "familyName": "Pkqf",
            "givenName": "Gtfd",
        }
        assert work == ["TestBcwqnm@test.microsoft.com"] and user["externalId"] == "Eqpj"
    assert user[ENTERPRISE_URN]["manager"]["value"] == boss  # untouched by the other updates
    by_email = await entra.query("/Users", f'emails[type eq "work"].value eq "{work[0]}"')
    assert [r["id"] for r in by_email["Resources"]] == [uid]
    await entra.patch(f"/Users/{uid}", payload("entra-2.5-add-nickname"))

    # Groups: matching query with members excluded, empty create, then members by PATCH.
    name = f"Entra Group {unique}"
    assert (await entra.query("/Groups", f'displayName eq "{name}"', excludedAttributes="members"))[
        "totalResults"
    ] == 0
    group_body = payload("entra-2.8-create-group")
    group_body.update(displayName=name, externalId=f"grp-{unique}")
    group = await entra.send("POST", "/Groups", group_body)
    assert group.status == 201, group
    gid = group.json["id"]
    await entra.patch(
        f"/Groups/{gid}",
        patch_op(
            {
                "op": "Add",
                "path": "members",
                "value": [{"$ref": None, "value": uid}, {"$ref": None, "value": boss}],
            }
        ),
    )
    assert await member_ids(scim, gid) == {uid, boss}
    listed = await entra.query("/Groups", f'displayName eq "{name}"', excludedAttributes="members")
    assert [g["id"] for g in listed["Resources"]] == [gid] and "members" not in listed["Resources"][0]
    read = await entra.send("GET", f"/Groups/{gid}", excludedAttributes="members")
    assert read.status == 200 and "members" not in read.json
    await entra.patch(f"/Groups/{gid}", payload("entra-2.8-rename-group"))
    await entra.patch(f"/Groups/{gid}", entra.remove_member(boss))
    assert await member_ids(scim, gid) == {uid}

    # Unassignment disables; a disabled user is still returned by GET and by the matching query.
    await entra.patch(f"/Users/{uid}", entra.disable(False))
    assert (await entra.send("GET", f"/Users/{uid}")).json["active"] is False
    disabled = await entra.query("/Users", f'externalId eq "{user["externalId"]}"')
    assert disabled["Resources"][0]["active"] is False
    await entra.patch(f"/Users/{uid}", entra.disable(True))
    assert (await entra.send("GET", f"/Users/{uid}")).json["active"] is True

    # The manager leaves: Entra's gallery test clears it with Replace to "".
    await entra.patch(f"/Users/{uid}", payload("entra-2.7-manager-replace-empty"))
    assert "manager" not in (await entra.send("GET", f"/Users/{uid}")).json.get(ENTERPRISE_URN, {})

    # Hard delete, 30 days later.
    assert (await entra.send("DELETE", f"/Users/{uid}")).status == 204
    assert (await entra.send("GET", f"/Users/{uid}")).status == 404
    assert (await entra.query("/Users", f'externalId eq "{user["externalId"]}"'))["totalResults"] == 0
    assert await member_ids(scim, gid) == set()
    assert (await entra.send("DELETE", f"/Groups/{gid}")).status == 204
    assert (await entra.send("GET", f"/Groups/{gid}")).status == 404
