"""Group members read back exactly as the client sent them (issue 11, README "Member display").

A member keeps the `value`, `display` and `type` it was sent with; `display` and `type` come back only
when they were given, and `$ref` is derived from the id. Two independent checkers compare the member
after a write with what they sent, so this is checked after PATCH add, PUT and POST, and on a later GET.
"""

from __future__ import annotations

from typing import Any

from tests.support.scim_asserts import GROUP_URN, create_user, patch_op
from tests.support.scim_client import ScimClient


def _sent_fields(member: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in member.items() if k != "$ref"}


async def _members(scim: ScimClient, gid: str) -> dict[str, dict[str, Any]]:
    got = await scim.get(f"/Groups/{gid}")
    assert got.status == 200, got
    for member in got.json["members"]:
        assert member["$ref"].endswith(f"/Users/{member['value']}")
    return {m["value"]: _sent_fields(m) for m in got.json["members"]}


async def _two_users(scim: ScimClient, unique: str) -> tuple[str, str]:
    # displayName differs from what the client sends as display: the server must not substitute it.
    a = await create_user(scim, f"disp-a-{unique}@example.com", displayName="Current Name A")
    b = await create_user(scim, f"disp-b-{unique}@example.com", displayName="Current Name B")
    return a["id"], b["id"]


async def test_post_keeps_member_display_and_type_as_sent(scim: ScimClient, unique: str) -> None:
    a, b = await _two_users(scim, unique)
    sent = [{"value": a, "display": "new User", "type": "User"}, {"value": b}]
    created = await scim.post(
        "/Groups", {"schemas": [GROUP_URN], "displayName": f"disp-post-{unique}", "members": sent}
    )
    assert created.status == 201, created
    # Multi-valued attributes have no order (RFC 7643 §2.4): compared by member id.
    assert {m["value"]: _sent_fields(m) for m in created.json["members"]} == {a: sent[0], b: sent[1]}
    assert await _members(scim, created.json["id"]) == {a: sent[0], b: sent[1]}


async def test_patch_add_keeps_member_as_sent(scim: ScimClient, unique: str) -> None:
    a, b = await _two_users(scim, unique)
    created = await scim.post("/Groups", {"schemas": [GROUP_URN], "displayName": f"disp-patch-{unique}"})
    gid = created.json["id"]
    add = patch_op({"op": "add", "path": "members", "value": [{"value": a, "display": "new User"}]})
    patched = await scim.patch(f"/Groups/{gid}", add)
    assert patched.status == 200, patched
    assert [_sent_fields(m) for m in patched.json["members"]] == [{"value": a, "display": "new User"}]

    # Entra's shape: no display, a null $ref. Nothing is invented for it.
    entra = patch_op({"op": "Add", "path": "members", "value": [{"$ref": None, "value": b}]})
    assert (await scim.patch(f"/Groups/{gid}", entra)).status == 200
    assert await _members(scim, gid) == {a: {"value": a, "display": "new User"}, b: {"value": b}}

    # Re-adding a member without display keeps the one it has; with one, the new one is kept.
    version = (await scim.get(f"/Groups/{gid}")).headers["ETag"]
    again = patch_op({"op": "add", "path": "members", "value": [{"value": a}]})
    assert (await scim.patch(f"/Groups/{gid}", again)).headers["ETag"] == version
    renamed = patch_op({"op": "add", "path": "members", "value": [{"value": a, "display": "Renamed"}]})
    relabelled = await scim.patch(f"/Groups/{gid}", renamed)
    assert relabelled.headers["ETag"] != version
    assert (await _members(scim, gid))[a] == {"value": a, "display": "Renamed"}


async def test_put_sets_members_exactly_as_sent(scim: ScimClient, unique: str) -> None:
    a, b = await _two_users(scim, unique)
    name = f"disp-put-{unique}"
    created = await scim.post(
        "/Groups",
        {"schemas": [GROUP_URN], "displayName": name, "members": [{"value": a, "display": "old"}]},
    )
    gid = created.json["id"]
    sent = [{"value": a}, {"value": b, "display": "test.user@okta.local"}]
    put = await scim.put(f"/Groups/{gid}", {"schemas": [GROUP_URN], "displayName": name, "members": sent})
    assert put.status == 200, put
    assert {m["value"]: _sent_fields(m) for m in put.json["members"]} == {a: sent[0], b: sent[1]}
    # PUT replaces: the display `a` had before is gone, since this PUT sent none.
    assert await _members(scim, gid) == {a: sent[0], b: sent[1]}
