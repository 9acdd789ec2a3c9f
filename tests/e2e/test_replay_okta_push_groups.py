"""An Okta OIN "Push Groups" session replayed against the live edge (idp-clients §1.4, §1.7, §1.8).

Okta provisions the assigned users first (lookup, then POST), then pushes a group: the exists check, the
create, membership PATCHes each followed by the no-path rename Okta always sends, a full replace, an empty
"Push now", the import paging, a user deactivation and finally "Unlink → delete the group in the target app".
Every step is checked by reading the server back.
"""

from __future__ import annotations

from typing import Any

from tests.support.payloads import payload
from tests.support.scim_asserts import assert_list, member_ids
from tests.support.scim_client import ScimClient

OKTA = {"User-Agent": "Okta SCIM Client 1.0.0", "Content-Type": "application/scim+json; charset=utf-8"}
SAMPLE_A = "23a35c27-23d3-4c03-b4c5-6443c09e7173"
SAMPLE_B = "89bb1940-b905-4575-9e7f-6f887cfb368e"
SAMPLE_GROUP = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"


async def _provision(scim: ScimClient, user_name: str, external_id: str) -> str:
    lookup = await scim.get(
        "/Users",
        params={"filter": f'userName eq "{user_name}"', "startIndex": "1", "count": "100"},
        headers=OKTA,
    )
    assert assert_list(lookup)["totalResults"] == 0
    body = payload("okta-1.4-create-user")
    body.update(userName=user_name, externalId=external_id)
    body["emails"][0]["value"] = user_name
    created = await scim.post("/Users", body, headers=OKTA)
    assert created.status == 201, created
    return str(created.json["id"])


async def _patch(scim: ScimClient, gid: str, body: dict[str, Any]) -> None:
    resp = await scim.patch(f"/Groups/{gid}", body, headers=OKTA)
    assert resp.status in (200, 204), resp


async def _rename(scim: ScimClient, gid: str, name: str) -> None:
    """The no-path replace of {id, displayName} that Okta sends after every membership update."""
    body = payload("okta-1.8-rename-group", {SAMPLE_GROUP: gid, "Test SCIMv2": name})
    await _patch(scim, gid, body)


async def test_okta_push_groups_session(scim: ScimClient, unique: str) -> None:
    a = await _provision(scim, f"push.a.{unique}@okta.local", "00uA")
    b = await _provision(scim, f"push.b.{unique}@okta.local", "00uB")
    name = f"Test SCIMv2 {unique}"

    exists = await scim.get(
        "/Groups",
        params={"filter": f'displayName eq "{name}"', "startIndex": "1", "count": "100"},
        headers=OKTA,
    )
    assert assert_list(exists)["totalResults"] == 0

    create = payload("okta-1.8-create-group")
    create["displayName"] = name
    created = await scim.post("/Groups", create, headers=OKTA)
    assert created.status == 201 and created.json["id"], created
    gid = created.json["id"]
    # Okta links groups by exact name, so the exists check now finds it.
    found = assert_list(
        await scim.get("/Groups", params={"filter": f'displayName eq "{name}"'}, headers=OKTA)
    )
    assert [g["id"] for g in found["Resources"]] == [gid]

    await _patch(
        scim,
        gid,
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": a, "display": f"push.a.{unique}@okta.local"}],
                }
            ],
        },
    )
    await _rename(scim, gid, name)
    assert await member_ids(scim, gid) == {a}

    await _patch(scim, gid, payload("okta-1.8-membership-remove-add", {SAMPLE_A: b, SAMPLE_B: a}))
    await _rename(scim, gid, name)
    assert await member_ids(scim, gid) == {b}

    await _patch(scim, gid, payload("okta-1.8-membership-replace", {SAMPLE_A: a, SAMPLE_B: b}))
    await _rename(scim, gid, name)
    assert await member_ids(scim, gid) == {a, b}

    renamed = f"Renamed in Okta {unique}"
    await _rename(scim, gid, renamed)
    group = (await scim.get(f"/Groups/{gid}", headers=OKTA)).json
    assert group["displayName"] == renamed and {m["value"] for m in group["members"]} == {a, b}

    user_view = (await scim.get(f"/Users/{a}", headers=OKTA)).json
    assert [g["value"] for g in user_view["groups"]] == [gid]

    await _patch(scim, gid, payload("okta-1.8-empty-push"))
    assert await member_ids(scim, gid) == set()
    await _patch(scim, gid, payload("okta-1.8-no-path-members", {SAMPLE_A: b}))
    assert await member_ids(scim, gid) == {b}

    imported = assert_list(
        await scim.get("/Groups", params={"startIndex": "1", "count": "100"}, headers=OKTA)
    )
    assert imported["totalResults"] == 1 and imported["Resources"][0]["id"] == gid

    deactivated = await scim.patch(f"/Users/{b}", payload("okta-1.7-deactivate"), headers=OKTA)
    assert deactivated.status == 200 and deactivated.json["active"] is False
    # Deactivation is not removal: the user stays a member and stays findable.
    assert await member_ids(scim, gid) == {b}

    deleted = await scim.delete(f"/Groups/{gid}", headers=OKTA)
    assert deleted.status == 204 and deleted.raw == b""
    assert (await scim.get(f"/Groups/{gid}", headers=OKTA)).status == 404
    assert not (await scim.get(f"/Users/{b}", headers=OKTA)).json.get("groups")
