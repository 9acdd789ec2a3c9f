"""Checklist §5 lines 39-47 of idp-clients.md: PATCH on Users (RFC 7644 §3.5.2) in every shape Okta and Entra
send, each read back with a GET."""

from __future__ import annotations

from typing import Any

from tests.support.payloads import payload
from tests.support.scim_asserts import ENTERPRISE_URN, assert_scim_error, create_user, patch_op
from tests.support.scim_client import ScimClient


async def _patch(scim: ScimClient, uid: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    resp = await scim.patch(f"/Users/{uid}", body)
    assert resp.status == status, resp
    # Okta wants the resource back after PATCH (RFC 7644 §3.5.2 allows 200 with it, or 204).
    assert resp.json["id"] == uid and resp.headers["ETag"] == resp.json["meta"]["version"]
    read = await scim.get(f"/Users/{uid}")
    assert read.status == 200
    assert {k: v for k, v in read.json.items() if k != "groups"} == {
        k: v for k, v in resp.json.items() if k != "groups"
    }
    result: dict[str, Any] = read.json
    return result


async def test_c39_okta_no_path_deactivate_and_reactivate(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c39-{unique}")
    assert (await _patch(scim, user["id"], payload("okta-1.7-deactivate")))["active"] is False
    assert (await _patch(scim, user["id"], payload("okta-1.7-reactivate")))["active"] is True


async def test_c40_no_path_value_with_dotted_and_urn_keys(scim: ScimClient, unique: str) -> None:
    user = await create_user(
        scim,
        f"c40-{unique}",
        name={"givenName": "Old", "familyName": "Keep"},
        emails=[{"value": "old@example.com", "type": "work"}],
    )
    got = await _patch(scim, user["id"], payload("entra-2.9-aadopt-multi-replace"))
    assert got["displayName"] == "Bjfe"
    assert got["name"] == {"givenName": "Kkom", "familyName": "Unua"}
    assert got["emails"] == [{"value": "TestMhvaes@test.microsoft.com", "type": "work"}]
    assert got[ENTERPRISE_URN]["employeeNumber"] == "Aklq"
    assert "name.givenName" not in got and f"{ENTERPRISE_URN}:employeeNumber" not in got


async def test_c41_op_names_are_case_insensitive(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c41-{unique}")
    got = await _patch(
        scim,
        user["id"],
        patch_op(
            {"op": "Add", "path": "title", "value": "Engineer"},
            {"op": "REPLACE", "path": "displayName", "value": "C41"},
            {"op": "Add", "path": "nickName", "value": "temp"},
            {"op": "Remove", "path": "nickName"},
        ),
    )
    assert got["title"] == "Engineer" and got["displayName"] == "C41" and "nickName" not in got
    assert_scim_error(
        await scim.patch(f"/Users/{user['id']}", patch_op({"op": "merge", "path": "title", "value": "x"})),
        400,
        "invalidSyntax",
    )


async def test_c42_entra_deactivate_with_string_or_boolean(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c42-{unique}")
    for disable, enable in (
        (payload("entra-2.6-disable"), "True"),
        (patch_op({"op": "Replace", "path": "active", "value": "false"}), "true"),
        (payload("entra-2.6-disable-aadopt"), True),
    ):
        assert (await _patch(scim, user["id"], disable))["active"] is False, disable
        on = patch_op({"op": "Replace", "path": "active", "value": enable})
        assert (await _patch(scim, user["id"], on))["active"] is True


async def test_c43_add_on_a_single_valued_attribute_replaces_it(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c43-{unique}", nickName="Old")
    assert (await _patch(scim, user["id"], payload("entra-2.5-add-nickname")))["nickName"] == "Babs"
    off = await _patch(scim, user["id"], patch_op({"op": "Add", "path": "active", "value": "False"}))
    assert off["active"] is False


async def test_c44_value_filter_paths_create_or_update_the_typed_entry(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c44-{unique}", emails=[{"value": "home@example.com", "type": "home"}])
    created = await _patch(scim, user["id"], payload("entra-2.5-add-work-email"))
    assert {e["type"]: e["value"] for e in created["emails"]} == {
        "home": "home@example.com",
        "work": "Test_User_work@testuser.com",
    }
    updated = await _patch(scim, user["id"], payload("entra-2.5-email-and-family-name"))
    assert {e["type"]: e["value"] for e in updated["emails"]} == {
        "home": "home@example.com",
        "work": "updatedEmail@microsoft.com",
    }
    assert updated["name"]["familyName"] == "updatedFamilyName"
    other = await _patch(
        scim,
        user["id"],
        patch_op(
            {"op": "Add", "path": 'addresses[type eq "work"].streetAddress', "value": "1 Main St"},
            {"op": "Replace", "path": 'addresses[type eq "work"].postalCode', "value": "12345"},
            {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0100"},
            {"op": "Replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0199"},
            {"op": "Add", "path": 'emails[type eq "work"].primary', "value": "true"},
        ),
    )
    assert other["addresses"] == [{"streetAddress": "1 Main St", "postalCode": "12345", "type": "work"}]
    assert other["phoneNumbers"] == [{"value": "+1 555 0199", "type": "mobile"}]
    assert [e.get("primary", False) for e in other["emails"] if e["type"] == "work"] == [True]


async def test_c45_enterprise_attribute_by_full_urn_path(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c45-{unique}")
    path = f"{ENTERPRISE_URN}:employeeNumber"
    got = await _patch(scim, user["id"], patch_op({"op": "Replace", "path": path, "value": "E-1"}))
    assert got[ENTERPRISE_URN] == {"employeeNumber": "E-1"} and ENTERPRISE_URN in got["schemas"]
    multi = await _patch(scim, user["id"], payload("entra-2.5-multi-replace"))
    assert multi[ENTERPRISE_URN]["employeeNumber"] == "Eqpj" and multi["externalId"] == "Eqpj"
    gone = await _patch(scim, user["id"], patch_op({"op": "Remove", "path": path}))
    assert ENTERPRISE_URN not in gone and ENTERPRISE_URN not in gone["schemas"]


async def test_c46_manager_set_change_and_remove_in_every_shape(scim: ScimClient, unique: str) -> None:
    boss = await create_user(scim, f"boss-{unique}")
    other_boss = await create_user(scim, f"boss2-{unique}")
    user = await create_user(scim, f"c46-{unique}")
    sample_ids = {
        "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2": boss["id"],
        "00aa00aa-bb11-cc22-dd33-44ee44ee44ee": boss["id"],
        "11bb11bb-cc22-dd33-ee44-55ff55ff55ff": other_boss["id"],
        "manager-id": other_boss["id"],
    }

    def manager(got: dict[str, Any]) -> Any:
        return got.get(ENTERPRISE_URN, {}).get("manager")

    removals = (
        "entra-2.7-manager-remove-path",
        "entra-2.7-manager-replace-empty",
        "entra-2.7-manager-remove-filter",
    )
    for removal in removals:
        got = await _patch(scim, user["id"], payload("entra-2.7-manager-add-string", sample_ids))
        assert manager(got)["value"] == boss["id"] and manager(got)["$ref"].endswith(f"/Users/{boss['id']}")
        got = await _patch(scim, user["id"], payload("entra-2.7-manager-add-list", sample_ids))
        assert manager(got)["value"] == boss["id"]
        got = await _patch(scim, user["id"], payload("entra-2.7-manager-replace-string", sample_ids))
        assert manager(got)["value"] == other_boss["id"]
        got = await _patch(scim, user["id"], payload(removal, sample_ids))
        assert manager(got) is None, removal


async def test_c47_operations_apply_in_order_and_atomically(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c47-{unique}", title="Before")
    got = await _patch(
        scim,
        user["id"],
        patch_op(
            {"op": "replace", "path": "title", "value": "First"},
            {"op": "replace", "path": "title", "value": "Second"},
            {"op": "add", "path": "emails", "value": [{"value": "a@example.com", "type": "work"}]},
            {"op": "add", "path": "emails", "value": [{"value": "b@example.com", "type": "home"}]},
        ),
    )
    assert got["title"] == "Second" and [e["value"] for e in got["emails"]] == [
        "a@example.com",
        "b@example.com",
    ]
    before = (await scim.get(f"/Users/{user['id']}")).json
    failing = patch_op(
        {"op": "replace", "path": "title", "value": "Never stored"},
        {"op": "replace", "path": "id", "value": "another-id"},
    )
    assert_scim_error(await scim.patch(f"/Users/{user['id']}", failing), 400, "mutability")
    assert (await scim.get(f"/Users/{user['id']}")).json == before
    assert_scim_error(await scim.patch(f"/Users/{user['id']}", patch_op({"op": "remove"})), 400, "noTarget")
    assert_scim_error(
        await scim.patch(
            f"/Users/{user['id']}", patch_op({"op": "replace", "path": "emails[type eq", "value": 1})
        ),
        400,
    )
    assert_scim_error(await scim.patch(f"/Users/{user['id']}", {"Operations": []}), 400, "invalidSyntax")
    assert_scim_error(await scim.patch("/Users/00919288221112222", payload("okta-1.7-deactivate")), 404)
    assert (await scim.get(f"/Users/{user['id']}")).json == before


async def test_c47_if_match_guards_a_patch(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c47e-{unique}")
    stale = await scim.patch(
        f"/Users/{user['id']}", payload("okta-1.7-deactivate"), headers={"If-Match": 'W/"12345"'}
    )
    assert_scim_error(stale, 412)
    assert (await scim.get(f"/Users/{user['id']}")).json["active"] is True
    ok = await scim.patch(
        f"/Users/{user['id']}", payload("okta-1.7-deactivate"), headers={"If-Match": user["meta"]["version"]}
    )
    assert ok.status == 200 and ok.json["active"] is False


async def test_password_patch_succeeds_and_is_never_returned(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"pw-{unique}")
    got = await _patch(scim, user["id"], patch_op({"op": "replace", "value": {"password": "n3w-Secret"}}))
    assert "password" not in got and "n3w-Secret" not in str(got)


async def test_remove_of_a_single_valued_attribute_unassigns_it(scim: ScimClient, unique: str) -> None:
    """RFC 7644 §3.5.2.2: the attribute is then unassigned; `active` included (the user stays active)."""
    user = await create_user(scim, f"rm-{unique}", title="T")
    got = await _patch(
        scim, user["id"], patch_op({"op": "remove", "path": "title"}, {"op": "remove", "path": "active"})
    )
    assert "title" not in got and "active" not in got
    listed = await scim.get("/Users", params={"filter": f'userName eq "rm-{unique}" and active eq true'})
    assert listed.json["totalResults"] == 1
