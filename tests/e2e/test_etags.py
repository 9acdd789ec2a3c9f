"""ETags end to end (RFC 7644 §3.14, RFC 7232): meta.version, ETag headers, If-Match and If-None-Match."""

from __future__ import annotations

from typing import Any

from tests.support.scim_client import ScimClient

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": path, "value": value}]}


async def new_user(scim: ScimClient, name: str) -> dict[str, Any]:
    created = await scim.post("/Users", {"schemas": [USER], "userName": name, "title": "Clerk"})
    assert created.status == 201, created
    assert created.headers["ETag"] == created.json["meta"]["version"] == 'W/"1"'
    return dict(created.json)


def assert_precondition_failed(reply: Any) -> None:
    assert reply.status == 412, reply
    assert reply.headers["Content-Type"].startswith("application/scim+json")
    assert reply.json["schemas"] == [ERROR] and reply.json["status"] == "412" and reply.json["detail"]


async def test_etag_header_is_meta_version_on_every_response(scim: ScimClient, unique: str) -> None:
    user = await new_user(scim, f"etag-{unique}")
    got = await scim.get(f"/Users/{user['id']}")
    assert got.headers["ETag"] == got.json["meta"]["version"] == 'W/"1"'
    patched = await scim.patch(f"/Users/{user['id']}", replace("title", "Boss"))
    assert patched.headers["ETag"] == patched.json["meta"]["version"] == 'W/"2"'
    put = await scim.put(f"/Users/{user['id']}", {"schemas": [USER], "userName": f"etag-{unique}"})
    assert put.headers["ETag"] == put.json["meta"]["version"] == 'W/"3"'
    listed = await scim.get("/Users", params={"filter": f'userName eq "etag-{unique}"'})
    assert listed.json["Resources"][0]["meta"]["version"] == 'W/"3"'


async def test_if_none_match_answers_304_while_unchanged(scim: ScimClient, unique: str) -> None:
    user = await new_user(scim, f"inm-{unique}")
    path = f"/Users/{user['id']}"
    for header in ('W/"1"', '"1"', "*", 'W/"7", W/"1"'):
        cached = await scim.get(path, headers={"If-None-Match": header})
        assert cached.status == 304, (header, cached)
        assert cached.raw == b"" and cached.headers["ETag"] == 'W/"1"'
    for header in ('W/"2"', '"not-ours"', 'W/"e180ee84f0671b1"'):
        fresh = await scim.get(path, headers={"If-None-Match": header})
        assert fresh.status == 200, (header, fresh)
        assert fresh.json["id"] == user["id"]
    await scim.patch(path, replace("title", "Boss"))
    stale = await scim.get(path, headers={"If-None-Match": 'W/"1"'})
    assert stale.status == 200 and stale.headers["ETag"] == 'W/"2"'


async def test_if_match_guards_patch_put_and_delete(scim: ScimClient, unique: str) -> None:
    user = await new_user(scim, f"im-{unique}")
    path = f"/Users/{user['id']}"

    assert_precondition_failed(
        await scim.patch(path, replace("title", "Boss"), headers={"If-Match": 'W/"2"'})
    )
    assert_precondition_failed(
        await scim.put(path, {"schemas": [USER], "userName": f"im-{unique}"}, headers={"If-Match": 'W/"9"'})
    )
    assert_precondition_failed(await scim.delete(path, headers={"If-Match": 'W/"0"'}))
    assert_precondition_failed(
        await scim.patch(path, replace("title", "Boss"), headers={"If-Match": '"junk"'})
    )
    unchanged = await scim.get(path)
    assert unchanged.json["title"] == "Clerk" and unchanged.headers["ETag"] == 'W/"1"'

    ok = await scim.patch(path, replace("title", "Boss"), headers={"If-Match": 'W/"1"'})
    assert ok.status == 200 and ok.headers["ETag"] == 'W/"2"'
    anything = await scim.patch(path, replace("title", "Chief"), headers={"If-Match": "*"})
    assert anything.status == 200 and anything.headers["ETag"] == 'W/"3"'
    listed = await scim.patch(path, replace("title", "Head"), headers={"If-Match": 'W/"1", W/"3"'})
    assert listed.status == 200 and listed.headers["ETag"] == 'W/"4"'
    assert_precondition_failed(
        await scim.patch(path, replace("title", "X"), headers={"If-Match": 'W/"1", W/"2"'})
    )

    assert (await scim.delete(path, headers={"If-Match": 'W/"4"'})).status == 204
    assert (await scim.get(path)).status == 404
    # RFC 7232 §5: a request that would fail anyway (404) is not turned into a 412 by its precondition.
    assert (await scim.delete(path, headers={"If-Match": 'W/"4"'})).status == 404


async def test_a_write_that_changes_nothing_keeps_the_version(scim: ScimClient, unique: str) -> None:
    user = await new_user(scim, f"noop-{unique}")
    path = f"/Users/{user['id']}"
    same = await scim.patch(path, replace("title", "Clerk"))
    assert same.status == 200 and same.headers["ETag"] == 'W/"1"'
    same_put = await scim.put(path, {"schemas": [USER], "userName": f"noop-{unique}", "title": "Clerk"})
    assert same_put.status == 200 and same_put.headers["ETag"] == 'W/"1"'
    cached = await scim.get(path, headers={"If-None-Match": 'W/"1"'})
    assert cached.status == 304


async def test_group_version_follows_membership(scim: ScimClient, unique: str) -> None:
    user = await new_user(scim, f"member-{unique}")
    group = await scim.post("/Groups", {"schemas": [GROUP], "displayName": f"g-{unique}"})
    assert group.status == 201 and group.headers["ETag"] == 'W/"1"'
    path = f"/Groups/{group.json['id']}"
    add = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}],
    }
    added = await scim.patch(path, add, headers={"If-Match": 'W/"1"'})
    assert added.status == 200 and added.headers["ETag"] == 'W/"2"'
    again = await scim.patch(path, add)  # already a member: nothing changes
    assert again.status == 200 and again.headers["ETag"] == 'W/"2"'
    assert_precondition_failed(await scim.patch(path, add, headers={"If-Match": 'W/"1"'}))


async def test_user_etag_follows_its_groups(scim: ScimClient, unique: str) -> None:
    """`groups` is part of a User's representation (RFC 7643 §4.1.2), so its ETag changes with them."""
    user = await new_user(scim, f"joins-{unique}")
    path = f"/Users/{user['id']}"
    group = await scim.post("/Groups", {"schemas": [GROUP], "displayName": f"joined-{unique}"})
    gpath = f"/Groups/{group.json['id']}"
    member = [{"value": user["id"]}]
    add = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": member}]}
    assert (await scim.patch(gpath, add)).status == 200

    joined = await scim.get(path, headers={"If-None-Match": 'W/"1"'})
    assert joined.status == 200, joined
    assert [g["value"] for g in joined.json["groups"]] == [group.json["id"]]
    in_group = joined.headers["ETag"]
    assert in_group != 'W/"1"' and joined.json["meta"]["version"] == in_group
    assert (await scim.get(path, headers={"If-None-Match": in_group})).status == 304
    listed = await scim.get("/Users", params={"filter": f'userName eq "joins-{unique}"'})
    assert listed.json["Resources"][0]["meta"]["version"] == in_group

    # If-Match on writes compares the same tag: the pre-membership one is stale now.
    assert_precondition_failed(
        await scim.patch(path, replace("title", "Boss"), headers={"If-Match": 'W/"1"'})
    )
    updated = await scim.patch(path, replace("title", "Boss"), headers={"If-Match": in_group})
    assert updated.status == 200 and updated.headers["ETag"] not in (in_group, 'W/"1"')

    # A rename of the group changes groups[].display, so the ETag again.
    before_rename = updated.headers["ETag"]
    assert (await scim.patch(gpath, replace("displayName", f"renamed-{unique}"))).status == 200
    renamed = await scim.get(path, headers={"If-None-Match": before_rename})
    assert renamed.status == 200 and renamed.json["groups"][0]["display"] == f"renamed-{unique}"
    assert renamed.headers["ETag"] != before_rename

    # Leaving the group: back to the plain version of the user row (two updates: created, title).
    remove = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "remove", "path": f'members[value eq "{user["id"]}"]'}],
    }
    assert (await scim.patch(gpath, remove)).status == 200
    left = await scim.get(path, headers={"If-None-Match": renamed.headers["ETag"]})
    assert left.status == 200 and left.json.get("groups", []) == [] and left.headers["ETag"] == 'W/"2"'


async def test_if_none_match_on_writes_follows_rfc7232(scim: ScimClient, unique: str) -> None:
    """RFC 7232 §3.2: `*` fails on a resource that exists; a listed current tag fails; any other passes."""
    user = await new_user(scim, f"inmw-{unique}")
    path = f"/Users/{user['id']}"
    body = {"schemas": [USER], "userName": f"inmw-{unique}", "title": "Boss"}
    assert_precondition_failed(await scim.put(path, body, headers={"If-None-Match": "*"}))
    assert_precondition_failed(
        await scim.patch(path, replace("title", "Boss"), headers={"If-None-Match": "*"})
    )
    assert_precondition_failed(
        await scim.patch(path, replace("title", "Boss"), headers={"If-None-Match": 'W/"1"'})
    )
    assert_precondition_failed(await scim.delete(path, headers={"If-None-Match": "*"}))
    unchanged = await scim.get(path)
    assert unchanged.json["title"] == "Clerk" and unchanged.headers["ETag"] == 'W/"1"'

    stale = await scim.put(path, body, headers={"If-None-Match": 'W/"7"'})
    assert stale.status == 200 and stale.json["title"] == "Boss" and stale.headers["ETag"] == 'W/"2"'
    # If-Match is evaluated first: a failing If-Match is a 412 whatever If-None-Match says.
    both = {"If-Match": 'W/"1"', "If-None-Match": 'W/"9"'}
    assert_precondition_failed(await scim.patch(path, replace("title", "X"), headers=both))
    # A write to a resource that does not exist is a 404, not a 412 (RFC 7232 §5).
    gone = f"/Users/{'0' * 8}-0000-0000-0000-{'0' * 12}"
    assert (await scim.patch(gone, replace("title", "X"), headers={"If-None-Match": "*"})).status == 404


async def test_me_is_501_with_a_reason(scim: ScimClient) -> None:
    me = await scim.get("/Me")
    assert me.status == 501 and me.headers["Content-Type"].startswith("application/scim+json")
    assert me.json["schemas"] == [ERROR] and me.json["status"] == "501"
    assert "provisioning token" in me.json["detail"] and "not a user" in me.json["detail"]
