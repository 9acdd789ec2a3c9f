"""Checklist §5 lines 48-60 of idp-clients.md: Groups and membership (RFC 7643 §4.2, RFC 7644 §3.5.2), with
every membership change read back from the server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.support.payloads import payload
from tests.support.scim_asserts import (
    GROUP_URN,
    USER_URN,
    assert_list,
    assert_scim_error,
    create_group,
    find,
    member_ids,
    patch_op,
)
from tests.support.scim_client import ScimClient

# Sample ids of the fixture payloads, swapped for live ones.
OKTA_A = "23a35c27-23d3-4c03-b4c5-6443c09e7173"
OKTA_B = "89bb1940-b905-4575-9e7f-6f887cfb368e"
ENTRA_A = "f648f8d5ea4e4cd38e9c"


async def _users(scim: ScimClient, prefix: str, n: int) -> list[str]:
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        body = {"schemas": [USER_URN], "userName": f"{prefix}-{i}@example.com", "active": True}
        async with gate:
            for _ in range(20):
                created = await scim.post("/Users", body)
                if created.status != 429:
                    break
                # Faster than the edge's per-token rate: wait as told (idp-clients §1.10).
                await asyncio.sleep(float(created.headers.get("Retry-After", "1")))
            assert created.status == 201, created
            return str(created.json["id"])

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def _patch_group(scim: ScimClient, gid: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await scim.patch(f"/Groups/{gid}", body)
    assert resp.status in (200, 204), resp
    if resp.status == 200:
        assert resp.json["id"] == gid
    result: dict[str, Any] = resp.json or {}
    return result


async def test_c48_okta_and_entra_group_creates(scim: ScimClient) -> None:
    okta = await scim.post("/Groups", payload("okta-1.8-create-group"))
    assert okta.status == 201 and okta.json["id"] and okta.json["displayName"] == "Test SCIMv2", okta
    assert okta.json["meta"]["resourceType"] == "Group" and GROUP_URN in okta.json["schemas"]
    entra = await scim.post("/Groups", payload("entra-2.8-create-group"))
    assert entra.status == 201 and entra.json["id"], entra
    assert entra.json["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    found = await find(scim, "/Groups", 'externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"')
    assert [g["id"] for g in found["Resources"]] == [entra.json["id"]]


async def test_c49_duplicate_group_display_name_is_409(scim: ScimClient, unique: str) -> None:
    await create_group(scim, f"Dup {unique}")
    assert_scim_error(await scim.post("/Groups", {"displayName": f"DUP {unique}"}), 409, "uniqueness")
    other = await create_group(scim, f"Other {unique}")
    renamed = await scim.patch(
        f"/Groups/{other['id']}", patch_op({"op": "replace", "path": "displayName", "value": f"dup {unique}"})
    )
    assert_scim_error(renamed, 409, "uniqueness")
    assert assert_list(await scim.get("/Groups"))["totalResults"] == 2


async def test_c50_okta_rename_echoing_its_id_leaves_members_alone(scim: ScimClient, unique: str) -> None:
    (uid,) = await _users(scim, f"c50-{unique}", 1)
    group = await create_group(scim, f"c50-{unique}", (uid,))
    body = payload("okta-1.8-rename-group", {"abf4dd94-a4c0-4f67-89c9-76b03340cb9b": group["id"]})
    await _patch_group(scim, group["id"], body)
    got = (await scim.get(f"/Groups/{group['id']}")).json
    assert got["displayName"] == "Test SCIMv2" and [m["value"] for m in got["members"]] == [uid]
    foreign_id = patch_op({"op": "replace", "value": {"id": "someone-else", "displayName": "x"}})
    assert_scim_error(await scim.patch(f"/Groups/{group['id']}", foreign_id), 400, "mutability")


async def test_c51_entra_rename(scim: ScimClient, unique: str) -> None:
    group = await create_group(scim, f"c51-{unique}")
    await _patch_group(scim, group["id"], payload("entra-2.8-rename-group"))
    got = (await scim.get(f"/Groups/{group['id']}")).json
    assert got["displayName"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"


async def test_c52_add_members_is_a_union_and_re_adding_is_a_no_op(scim: ScimClient, unique: str) -> None:
    a, b, c = await _users(scim, f"c52-{unique}", 3)
    group = await create_group(scim, f"c52-{unique}", (c,))
    add = patch_op({"op": "add", "path": "members", "value": [{"value": a, "display": "A"}, {"value": b}]})
    await _patch_group(scim, group["id"], add)
    assert await member_ids(scim, group["id"]) == {a, b, c}
    version = (await scim.get(f"/Groups/{group['id']}")).json["meta"]["version"]
    await _patch_group(scim, group["id"], patch_op({"op": "add", "path": "members", "value": [{"value": a}]}))
    again = (await scim.get(f"/Groups/{group['id']}")).json
    assert {m["value"] for m in again["members"]} == {a, b, c} and again["meta"]["version"] == version


async def test_c53_entra_add_member_with_a_null_ref(scim: ScimClient, unique: str) -> None:
    (a,) = await _users(scim, f"c53-{unique}", 1)
    group = await create_group(scim, f"c53-{unique}")
    await _patch_group(scim, group["id"], payload("entra-2.8-add-members", {ENTRA_A: a}))
    assert await member_ids(scim, group["id"]) == {a}
    extra_keys = payload(
        "entra-2.11-postman-add-member-extra-keys", {"00aa00aa-bb11-cc22-dd33-44ee44ee44ee": a}
    )
    await _patch_group(scim, group["id"], extra_keys)
    assert await member_ids(scim, group["id"]) == {a}


async def test_c54_filtered_remove_takes_out_only_the_match(scim: ScimClient, unique: str) -> None:
    a, b = await _users(scim, f"c54-{unique}", 2)
    group = await create_group(scim, f"c54-{unique}", (a, b))
    await _patch_group(
        scim,
        group["id"],
        payload("entra-2.8-remove-members-aadopt", {"7f4bc1a3-285e-48ae-8202-5accb43efb0e": a}),
    )
    assert await member_ids(scim, group["id"]) == {b}
    non_member = patch_op(
        {"op": "remove", "path": 'members[value eq "5b50642d-79fc-4410-9e90-4c077cdd1a59"]'}
    )
    await _patch_group(scim, group["id"], non_member)
    assert await member_ids(scim, group["id"]) == {b}


async def test_c55_entra_value_list_remove_takes_out_only_those(scim: ScimClient, unique: str) -> None:
    a, b, c = await _users(scim, f"c55-{unique}", 3)
    group = await create_group(scim, f"c55-{unique}", (a, b, c))
    await _patch_group(scim, group["id"], payload("entra-2.8-remove-members", {ENTRA_A: a}))
    assert await member_ids(scim, group["id"]) == {b, c}


async def test_c56_replace_members_sets_exactly_that_list(scim: ScimClient, unique: str) -> None:
    a, b, c = await _users(scim, f"c56-{unique}", 3)
    group = await create_group(scim, f"c56-{unique}", (c,))
    await _patch_group(scim, group["id"], payload("okta-1.8-membership-replace", {OKTA_A: a, OKTA_B: b}))
    assert await member_ids(scim, group["id"]) == {a, b}
    await _patch_group(scim, group["id"], payload("okta-1.8-no-path-members", {OKTA_A: c}))
    assert await member_ids(scim, group["id"]) == {c}
    await _patch_group(scim, group["id"], payload("okta-1.8-empty-push"))
    assert await member_ids(scim, group["id"]) == set()
    await _patch_group(scim, group["id"], patch_op({"op": "add", "path": "members", "value": [{"value": a}]}))
    await _patch_group(scim, group["id"], payload("entra-2.11-postman-remove-all-members"))
    assert await member_ids(scim, group["id"]) == set()


async def test_c57_mixed_remove_and_add_in_one_patch(scim: ScimClient, unique: str) -> None:
    a, b = await _users(scim, f"c57-{unique}", 2)
    group = await create_group(scim, f"c57-{unique}", (b,))
    await _patch_group(scim, group["id"], payload("okta-1.8-membership-remove-add", {OKTA_A: a, OKTA_B: b}))
    assert await member_ids(scim, group["id"]) == {a}


async def _bulk_membership(scim: ScimClient, unique: str, n: int) -> None:
    ids = await _users(scim, f"c57x-{unique}", n)
    keep = ids[: n // 2]
    group = await create_group(scim, f"c57x-{unique}", tuple(keep))
    started = time.monotonic()
    await _patch_group(
        scim,
        group["id"],
        patch_op(
            {"op": "remove", "path": "members", "value": [{"value": i} for i in keep[: n // 4]]},
            {"op": "add", "path": "members", "value": [{"value": i} for i in ids[n // 2 :]]},
        ),
    )
    assert time.monotonic() - started < 15
    assert await member_ids(scim, group["id"]) == set(ids[n // 4 :])


async def test_c57_one_hundred_members_in_one_patch(scim: ScimClient, unique: str) -> None:
    await _bulk_membership(scim, unique, 100)


@pytest.mark.heavy
async def test_c57_one_thousand_members_in_one_patch(scim: ScimClient, unique: str) -> None:
    await _bulk_membership(scim, unique, 1000)


async def test_c58_excluded_members_are_left_out(scim: ScimClient, unique: str) -> None:
    (a,) = await _users(scim, f"c58-{unique}", 1)
    group = await create_group(scim, f"c58-{unique}", (a,))
    got = await scim.get(f"/Groups/{group['id']}", params={"excludedAttributes": "members"})
    assert got.status == 200 and "members" not in got.json and got.json["displayName"] == f"c58-{unique}"
    listed = assert_list(await scim.get("/Groups", params={"excludedAttributes": "members"}))
    assert all("members" not in g for g in listed["Resources"])
    patched = await scim.patch(
        f"/Groups/{group['id']}", payload("entra-2.8-rename-group"), params={"excludedAttributes": "members"}
    )
    assert patched.status == 200 and "members" not in patched.json
    only_names = await scim.get(f"/Groups/{group['id']}", params={"attributes": "displayName"})
    assert set(only_names.json) == {"schemas", "id", "displayName"}
    member_view = (await scim.get(f"/Users/{a}")).json
    assert member_view["groups"] == [
        {
            "value": group["id"],
            "display": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName",
            "type": "direct",
            "$ref": member_view["groups"][0]["$ref"],
        }
    ]
    assert member_view["groups"][0]["$ref"].endswith(f"/Groups/{group['id']}")


async def test_c59_aiw_put_replaces_the_membership(scim: ScimClient, unique: str) -> None:
    a, b = await _users(scim, f"c59-{unique}", 2)
    group = await create_group(scim, f"c59-{unique}", (b,))
    body = payload("okta-1.8-aiw-put-group", {OKTA_A: a})
    resp = await scim.put(f"/Groups/{group['id']}", body)
    assert resp.status == 200 and resp.json["displayName"] == "Test SCIMv2", resp
    assert await member_ids(scim, group["id"]) == {a}
    emptied = await scim.put(f"/Groups/{group['id']}", {"displayName": "Test SCIMv2"})
    # RFC 7643 §2.5: an empty list and an absent attribute are the same state.
    assert emptied.status == 200 and not emptied.json.get("members")
    assert await member_ids(scim, group["id"]) == set()


async def test_c60_delete_group_and_user_are_204_then_gone(scim: ScimClient, unique: str) -> None:
    a, b = await _users(scim, f"c60-{unique}", 2)
    group = await create_group(scim, f"c60-{unique}", (a, b))
    resp = await scim.delete(f"/Groups/{group['id']}")
    assert resp.status == 204 and resp.raw == b""
    assert_scim_error(await scim.get(f"/Groups/{group['id']}"), 404)
    assert (await find(scim, "/Groups", f'displayName eq "c60-{unique}"'))["totalResults"] == 0
    assert not (await scim.get(f"/Users/{a}")).json.get("groups")
    other = await create_group(scim, f"c60b-{unique}", (a, b))
    assert (await scim.delete(f"/Users/{a}")).status == 204
    assert await member_ids(scim, other["id"]) == {b}
    assert (await find(scim, "/Users", f'userName eq "c60-{unique}-0@example.com"'))["totalResults"] == 0


async def test_members_filter_and_unknown_members(scim: ScimClient, unique: str) -> None:
    a, b = await _users(scim, f"mf-{unique}", 2)
    group = await create_group(scim, f"mf-{unique}", (a,))
    await create_group(scim, f"mf2-{unique}", (b,))
    found = await find(scim, "/Groups", f'members[value eq "{a}"]', excludedAttributes="members")
    assert [g["id"] for g in found["Resources"]] == [group["id"]]
    assert (await find(scim, "/Users", f'groups[value eq "{group["id"]}"]'))["Resources"][0]["id"] == a
    # Microsoft's Postman "garbage" member add (idp-clients §2.11) must not fail the request.
    garbage = payload("entra-2.11-postman-garbage-members", {"garbage-group-id": group["id"]})
    await _patch_group(scim, group["id"], garbage)
    assert await member_ids(scim, group["id"]) == {a}
    assert_scim_error(
        await scim.patch(
            f"/Groups/{group['id']}", patch_op({"op": "replace", "path": "members.value", "value": a})
        ),
        400,
        "invalidPath",
    )


async def test_a_write_to_a_large_group_answers_without_its_members(scim: ScimClient, unique: str) -> None:
    """Above GROUP_WRITE_MEMBERS_INLINE_MAX (100) a PATCH answer leaves `members` out, unless asked for."""
    ids = await _users(scim, f"big-{unique}", 102)
    group = await create_group(scim, f"big-{unique}", tuple(ids[:101]))
    assert "members" not in group  # the POST answer: 101 members is above the bound
    add_one = patch_op({"op": "add", "path": "members", "value": [{"value": ids[101]}]})
    patched = await scim.patch(f"/Groups/{group['id']}", add_one)
    assert patched.status == 200 and patched.json["displayName"] == f"big-{unique}"
    assert "members" not in patched.json
    asked = await scim.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "replace", "path": "displayName", "value": f"big2-{unique}"}),
        params={"attributes": "members,displayName"},
    )
    assert {m["value"] for m in asked.json["members"]} == set(ids)
    assert await member_ids(scim, group["id"]) == set(ids)  # GET always returns them all
