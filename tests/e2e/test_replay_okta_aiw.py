"""An Okta App Integration Wizard (custom app) session replayed against the live edge (idp-clients §1.1, §1.6,
§1.8). AIW apps never PATCH: every change is a GET followed by a PUT of the whole body Okta read, including
`id`, `meta` and `groups`; deactivation is a PUT with `active: false`.
"""

from __future__ import annotations

from typing import Any

from tests.support.payloads import payload
from tests.support.scim_asserts import assert_list, member_ids
from tests.support.scim_client import ScimClient

OKTA = {
    "Accept": "application/scim+json",
    "Accept-Charset": "utf-8",
    "Content-Type": "application/scim+json; charset=utf-8",
    "User-Agent": "Okta SCIM Client 1.0.0",
}


async def _get_then_put(scim: ScimClient, uid: str, change: dict[str, Any]) -> dict[str, Any]:
    read = await scim.get(f"/Users/{uid}", headers=OKTA)
    assert read.status == 200, read
    body = {**read.json, **change}
    resp = await scim.put(f"/Users/{uid}", body, headers=OKTA)
    assert resp.status == 200, resp
    result: dict[str, Any] = resp.json
    return result


async def test_okta_aiw_put_only_session(scim: ScimClient, unique: str) -> None:
    # Test Connector Configuration: one constant request per click.
    assert assert_list(await scim.get("/Users", params={"startIndex": "1", "count": "2"}, headers=OKTA))

    user_name = f"aiw.{unique}@okta.local"
    lookup = await scim.get(
        "/Users",
        params={"filter": f'userName eq "{user_name}"', "startIndex": "1", "count": "100"},
        headers=OKTA,
    )
    assert assert_list(lookup)["totalResults"] == 0
    body = payload("okta-1.4-create-user")
    body.update(userName=user_name)
    body["emails"][0]["value"] = user_name
    created = await scim.post("/Users", body, headers=OKTA)
    assert created.status == 201, created
    uid = created.json["id"]

    # Title change: GET, then the whole user back with the change.
    titled = await _get_then_put(
        scim,
        uid,
        {
            "title": "Engineer",
            "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
        },
    )
    assert titled["title"] == "Engineer" and titled["name"]["middleName"] == "Excited"
    assert titled["active"] is True and titled["externalId"] == body["externalId"]

    # Okta's documented PUT shape, echoing read-only attributes.
    documented = payload(
        "okta-1.6-put-user", {"23a35c27-23d3-4c03-b4c5-6443c09e7173": uid, "test.user@okta.local": user_name}
    )
    resp = await scim.put(f"/Users/{uid}", documented, headers=OKTA)
    assert resp.status == 200 and "title" not in resp.json and resp.json["active"] is True, resp

    deactivated = await _get_then_put(scim, uid, {"active": False})
    assert deactivated["active"] is False
    again = (await scim.get(f"/Users/{uid}", headers=OKTA)).json
    assert again["active"] is False and again["userName"] == user_name
    reactivated = await _get_then_put(scim, uid, {"active": True})
    assert reactivated["active"] is True

    # Linking an existing user: the lookup finds it, and Okta PUTs onto that row rather than POSTing.
    found = assert_list(
        await scim.get("/Users", params={"filter": f'userName eq "{user_name.upper()}"'}, headers=OKTA)
    )
    assert [r["id"] for r in found["Resources"]] == [uid]
    linked = await _get_then_put(scim, uid, {"displayName": "Linked"})
    assert linked["displayName"] == "Linked"

    # Group push, AIW style: filter, POST, GET, PUT with the whole member list.
    second = await scim.post(
        "/Users", {"userName": f"aiw2.{unique}@okta.local", "active": True}, headers=OKTA
    )
    name = f"AIW Group {unique}"
    exists = await scim.get("/Groups", params={"filter": f'displayName eq "{name}"'}, headers=OKTA)
    assert assert_list(exists)["totalResults"] == 0
    group = await scim.post(
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": []},
        headers=OKTA,
    )
    assert group.status == 201, group
    gid = group.json["id"]
    read = (await scim.get(f"/Groups/{gid}", headers=OKTA)).json
    put = await scim.put(
        f"/Groups/{gid}", {**read, "members": [{"value": uid, "display": user_name}]}, headers=OKTA
    )
    assert put.status == 200, put
    assert await member_ids(scim, gid) == {uid}
    read = (await scim.get(f"/Groups/{gid}", headers=OKTA)).json
    swap = payload(
        "okta-1.8-aiw-put-group",
        {"23a35c27-23d3-4c03-b4c5-6443c09e7173": second.json["id"], "Test SCIMv2": name},
    )
    put = await scim.put(f"/Groups/{gid}", {**read, **swap}, headers=OKTA)
    assert put.status == 200, put
    assert await member_ids(scim, gid) == {second.json["id"]}
    # The user GET Okta does before its next PUT shows the computed groups, which the PUT then echoes.
    member = (await scim.get(f"/Users/{second.json['id']}", headers=OKTA)).json
    assert [g["value"] for g in member["groups"]] == [gid]
    echoed = await _get_then_put(scim, second.json["id"], {"nickName": "Two"})
    assert echoed["nickName"] == "Two" and [g["value"] for g in echoed["groups"]] == [gid]
