"""PATCH parsing and application against real Okta and Entra payloads (idp-clients §5, 39-59)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from scim_core.errors import InvalidFilter, InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget
from scim_core.patch import (
    AddMembers,
    PatchOperation,
    PatchResult,
    RemoveAllMembers,
    RemoveMembers,
    ReplaceMembers,
    apply_patch,
    parse_patch_request,
)
from scim_core.schema import ENTERPRISE_USER_URN, GROUP_RESOURCE, GROUP_URN, USER_RESOURCE, USER_URN

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"
USER_ID = "23a35c27-23d3-4c03-b4c5-6443c09e7173"
GROUP_ID = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"
CUSTOM_URN = "urn:ietf:params:scim:schemas:custom:Space"


def load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return body


def user() -> dict[str, Any]:
    return {
        "schemas": [USER_URN, ENTERPRISE_USER_URN],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "displayName": "Test User",
        "active": True,
        "emails": [
            {"value": "test.user@okta.local", "type": "work", "primary": True},
            {"value": "home@example.com", "type": "home"},
        ],
        ENTERPRISE_USER_URN: {"employeeNumber": "701984", "manager": {"value": "boss-id"}},
    }


def group() -> dict[str, Any]:
    return {"schemas": [GROUP_URN], "displayName": "Test SCIMv2", "externalId": "ext-1"}


def patch_user(body: dict[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_patch(
        user() if doc is None else doc, parse_patch_request(body), USER_RESOURCE, resource_id=USER_ID
    ).doc


def patch_group(body: dict[str, Any]) -> PatchResult:
    return apply_patch(group(), parse_patch_request(body), GROUP_RESOURCE, resource_id=GROUP_ID)


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}


# parse_patch_request


def test_parse_okta_deactivate() -> None:
    assert parse_patch_request(load("okta-1.7-deactivate.json")) == [
        PatchOperation(op="replace", path=None, value={"active": False})
    ]


def test_parse_title_case_op_and_lenient_keys() -> None:
    body = {"operations": [{"OP": "Replace", "Path": "active", "Value": "False"}]}
    assert parse_patch_request(body) == [PatchOperation(op="replace", path="active", value="False")]


def test_parse_ignores_unknown_keys_in_operations() -> None:
    parsed = parse_patch_request(load("entra-2.11-postman-add-member-extra-keys.json"))
    assert [(o.op, o.path) for o in parsed] == [("add", "members")]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "Operations": [{"op": "add", "value": {}}],
        },
        {"schemas": "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations": []},
        {"Operations": []},
        {"Operations": {"op": "add"}},
        {"Operations": [{"op": "move", "path": "active", "value": True}]},
        {"Operations": [{"op": "add", "path": 7, "value": True}]},
        {"Operations": ["add"]},
    ],
)
def test_parse_rejects_malformed_requests(body: Any) -> None:
    with pytest.raises(InvalidSyntax) as err:
        parse_patch_request(body)
    assert err.value.status == 400 and err.value.scim_type == "invalidSyntax"


def test_parse_remove_without_path_is_no_target() -> None:
    with pytest.raises(NoTarget):
        parse_patch_request(ops({"op": "remove"}))


def test_parse_add_without_value_is_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        parse_patch_request(ops({"op": "add", "path": "nickName"}))


# Users: active and single-valued attributes


@pytest.mark.parametrize(
    "name", ["okta-1.7-deactivate.json", "entra-2.6-disable.json", "entra-2.6-disable-aadopt.json"]
)
def test_deactivate_shapes(name: str) -> None:
    assert patch_user(load(name))["active"] is False


def test_okta_reactivate() -> None:
    doc = user() | {"active": False}
    assert patch_user(load("okta-1.7-reactivate.json"), doc)["active"] is True


@pytest.mark.parametrize("value", ["false", "FALSE", False])
def test_add_on_active_acts_as_replace(value: Any) -> None:
    assert patch_user(ops({"op": "Add", "path": "active", "value": value}))["active"] is False


def test_string_that_is_not_a_boolean_is_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        patch_user(ops({"op": "replace", "path": "active", "value": "nope"}))


def test_add_nick_name_when_absent() -> None:
    assert patch_user(load("entra-2.5-add-nickname.json"))["nickName"] == "Babs"


def test_add_on_existing_single_value_replaces_it() -> None:
    assert patch_user(ops({"op": "add", "path": "displayName", "value": "New"}))["displayName"] == "New"


def test_entra_multi_replace_default_shape() -> None:
    doc = patch_user(load("entra-2.5-multi-replace.json"))
    assert doc["displayName"] == "Pvlo"
    assert doc["name"] == {"givenName": "Gtfd", "familyName": "Pkqf"}
    assert doc["externalId"] == "Eqpj"
    assert doc[ENTERPRISE_USER_URN]["employeeNumber"] == "Eqpj"
    assert doc["emails"][0] == {"value": "TestBcwqnm@test.microsoft.com", "type": "work", "primary": True}
    assert doc["emails"][1] == {"value": "home@example.com", "type": "home"}


def test_entra_aadopt_no_path_value_keys_are_paths() -> None:
    doc = patch_user(load("entra-2.9-aadopt-multi-replace.json"))
    assert doc["displayName"] == "Bjfe"
    assert doc["name"] == {"givenName": "Kkom", "familyName": "Unua"}
    assert doc[ENTERPRISE_USER_URN] == {"employeeNumber": "Aklq", "manager": {"value": "boss-id"}}
    assert doc["emails"][0]["value"] == "TestMhvaes@test.microsoft.com"
    assert "name.givenName" not in doc and not any(k.endswith(":employeeNumber") for k in doc)


def test_no_path_extension_object_is_merged() -> None:
    doc = patch_user(ops({"op": "replace", "value": {ENTERPRISE_USER_URN: {"Department": "Sales"}}}))
    assert doc[ENTERPRISE_USER_URN] == {
        "employeeNumber": "701984",
        "manager": {"value": "boss-id"},
        "department": "Sales",
    }


def test_no_path_value_must_be_an_object() -> None:
    with pytest.raises(InvalidValue):
        patch_user(ops({"op": "replace", "value": "x"}))


def test_no_path_unknown_keys_are_ignored_like_put() -> None:
    doc = patch_user(ops({"op": "replace", "value": {"favoriteColor": "red", "title": "CTO"}}))
    assert doc["title"] == "CTO" and "favoriteColor" not in doc


def test_complex_replace_merges_sub_attributes() -> None:
    doc = patch_user(
        ops({"op": "replace", "path": "name", "value": {"MiddleName": "Excited", "givenName": None}})
    )
    assert doc["name"] == {"familyName": "User", "middleName": "Excited"}


# Users: value paths (checklist 44)


def test_entra_add_work_email_creates_entry_when_absent() -> None:
    doc = user()
    del doc["emails"]
    assert patch_user(load("entra-2.5-add-work-email.json"), doc)["emails"] == [
        {"type": "work", "value": "Test_User_work@testuser.com"}
    ]


def test_replace_work_email_updates_existing_and_keeps_other_sub_attributes() -> None:
    doc = patch_user(load("entra-2.5-email-and-family-name.json"))
    assert doc["emails"] == [
        {"value": "updatedEmail@microsoft.com", "type": "work", "primary": True},
        {"value": "home@example.com", "type": "home"},
    ]
    assert doc["name"]["familyName"] == "updatedFamilyName"


@pytest.mark.parametrize(
    ("path", "value", "attribute", "expected"),
    [
        (
            'addresses[type eq "work"].streetAddress',
            "1 Main St",
            "addresses",
            {"type": "work", "streetAddress": "1 Main St"},
        ),
        (
            'phoneNumbers[type eq "mobile"].value',
            "+1 555",
            "phoneNumbers",
            {"type": "mobile", "value": "+1 555"},
        ),
    ],
)
def test_value_path_creates_other_typed_entries(
    path: str, value: str, attribute: str, expected: dict[str, Any]
) -> None:
    doc = patch_user(ops({"op": "Replace", "path": path, "value": value}))
    assert doc[attribute] == [expected]


def test_created_primary_entry_demotes_the_old_primary() -> None:
    body = ops(
        {"op": "add", "path": 'emails[type eq "other" and primary eq true].value', "value": "o@example.com"}
    )
    emails = patch_user(body)["emails"]
    assert {"type": "other", "primary": True, "value": "o@example.com"} in emails
    assert emails[0]["primary"] is False


def test_string_boolean_sub_attribute_in_value_path() -> None:
    emails = patch_user(ops({"op": "Add", "path": 'emails[type eq "home"].primary', "value": "true"}))[
        "emails"
    ]
    assert emails == [
        {"value": "test.user@okta.local", "type": "work", "primary": False},
        {"value": "home@example.com", "type": "home", "primary": True},
    ]


def test_filter_that_cannot_describe_a_new_element_is_no_target() -> None:
    with pytest.raises(NoTarget):
        patch_user(ops({"op": "replace", "path": 'emails[value co "nowhere"].type', "value": "work"}))


def test_remove_matching_elements_only() -> None:
    emails = patch_user(ops({"op": "remove", "path": 'emails[type eq "HOME"]'}))["emails"]
    assert emails == [{"value": "test.user@okta.local", "type": "work", "primary": True}]


def test_remove_sub_attribute_of_matching_elements() -> None:
    emails = patch_user(ops({"op": "remove", "path": 'emails[type eq "work"].primary'}))["emails"]
    assert emails[0] == {"value": "test.user@okta.local", "type": "work"}


def test_add_appends_and_dedupes_multi_valued() -> None:
    body = ops(
        {
            "op": "add",
            "path": "emails",
            "value": [{"value": "home@example.com", "type": "home"}, {"value": "n@x.y"}],
        }
    )
    assert [e["value"] for e in patch_user(body)["emails"]] == [
        "test.user@okta.local",
        "home@example.com",
        "n@x.y",
    ]


def test_replace_replaces_whole_multi_valued_list() -> None:
    emails = patch_user(
        ops({"op": "replace", "path": "emails", "value": {"value": "only@x.y", "Primary": "True"}})
    )["emails"]
    assert emails == [{"value": "only@x.y", "primary": True}]


def test_remove_multi_valued_with_value_list_removes_only_those() -> None:
    body = ops({"op": "remove", "path": "emails", "value": [{"value": "HOME@example.com"}]})
    assert [e["value"] for e in patch_user(body)["emails"]] == ["test.user@okta.local"]


# Users: manager (checklist 46)


def test_entra_manager_add_string_with_urn_path() -> None:
    doc = patch_user(load("entra-2.7-manager-add-string.json"))
    assert doc[ENTERPRISE_USER_URN]["manager"] == {"value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}


def test_entra_manager_add_list_form_with_unqualified_path() -> None:
    doc = user()
    del doc[ENTERPRISE_USER_URN]
    patched = patch_user(load("entra-2.7-manager-add-list.json"), doc)
    assert patched[ENTERPRISE_USER_URN]["manager"] == {
        "$ref": "http://example.com/scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    }
    assert patched["schemas"] == [USER_URN, ENTERPRISE_USER_URN]


def test_entra_manager_replace_with_new_id() -> None:
    doc = patch_user(load("entra-2.7-manager-replace-string.json"))
    assert doc[ENTERPRISE_USER_URN]["manager"] == {"value": "11bb11bb-cc22-dd33-ee44-55ff55ff55ff"}


@pytest.mark.parametrize(
    "name", ["entra-2.7-manager-replace-empty.json", "entra-2.7-manager-remove-path.json"]
)
def test_entra_manager_removal(name: str) -> None:
    assert patch_user(load(name))[ENTERPRISE_USER_URN] == {"employeeNumber": "701984"}


def test_manager_remove_by_value_filter() -> None:
    doc = user()
    doc[ENTERPRISE_USER_URN]["manager"] = {"value": "manager-id"}
    assert "manager" not in patch_user(load("entra-2.7-manager-remove-filter.json"), doc)[ENTERPRISE_USER_URN]


def test_manager_remove_by_non_matching_filter_keeps_it() -> None:
    assert patch_user(load("entra-2.7-manager-remove-filter.json"))[ENTERPRISE_USER_URN]["manager"] == {
        "value": "boss-id"
    }


def test_removing_last_extension_attribute_drops_extension_and_urn() -> None:
    doc = patch_user(
        ops(
            {"op": "remove", "path": "manager"},
            {"op": "remove", "path": f"{ENTERPRISE_USER_URN}:employeeNumber"},
        )
    )
    assert ENTERPRISE_USER_URN not in doc and doc["schemas"] == [USER_URN]


# Users: read-only, write-only, unknown paths


def test_id_equal_to_resource_id_is_ignored_and_other_id_is_mutability() -> None:
    assert patch_user(ops({"op": "replace", "value": {"id": USER_ID, "title": "x"}}))["title"] == "x"
    with pytest.raises(Mutability):
        patch_user(ops({"op": "replace", "value": {"id": "someone-else"}}))


def test_read_only_keys_ignored_without_path_but_rejected_with_path() -> None:
    doc = patch_user(
        ops({"op": "replace", "value": {"meta": {"resourceType": "User"}, "groups": [{"value": "g"}]}})
    )
    assert "meta" not in doc and "groups" not in doc
    with pytest.raises(Mutability):
        patch_user(ops({"op": "replace", "path": "meta.resourceType", "value": "Group"}))


def test_password_is_never_stored() -> None:
    doc = patch_user(
        ops(
            {"op": "replace", "path": "password", "value": "hunter2"},
            {"op": "replace", "value": {"password": "x"}},
        )
    )
    assert "password" not in doc


@pytest.mark.parametrize(
    "path", ["favoriteColor", "name.nickname", 'emails[type eq "work"', "emails[type zz 1]", "9lives"]
)
def test_unknown_or_malformed_path_is_invalid_path(path: str) -> None:
    with pytest.raises(InvalidPath):
        patch_user(ops({"op": "replace", "path": path, "value": "x"}))


def test_remove_missing_attribute_is_a_no_op() -> None:
    assert patch_user(ops({"op": "remove", "path": "title"})) == patch_user(
        ops({"op": "remove", "path": "nickName"})
    )


def test_remove_required_user_name_is_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="userName is required"):
        patch_user(ops({"op": "remove", "path": "userName"}))


def test_custom_urn_paths_are_allowed_and_round_trip() -> None:
    doc = patch_user(
        ops(
            {"op": "add", "path": f"{CUSTOM_URN}:custom1", "value": "a"},
            {"op": "replace", "value": {CUSTOM_URN: {"custom2": {"x": 1}}}},
        )
    )
    assert doc[CUSTOM_URN] == {"custom1": "a", "custom2": {"x": 1}}
    assert CUSTOM_URN in doc["schemas"]
    removed = patch_user(ops({"op": "remove", "path": f"{CUSTOM_URN}:custom1"}), doc)
    assert removed[CUSTOM_URN] == {"custom2": {"x": 1}}


def test_operations_apply_in_order_and_atomically() -> None:
    original = user()
    snapshot = copy.deepcopy(original)
    body = ops(
        {"op": "replace", "path": "title", "value": "first"},
        {"op": "replace", "path": "title", "value": "second"},
    )
    assert patch_user(body, original)["title"] == "second"
    failing = ops(
        {"op": "replace", "path": "title", "value": "x"}, {"op": "replace", "path": "nope", "value": 1}
    )
    with pytest.raises(InvalidPath):
        patch_user(failing, original)
    assert original == snapshot


# Groups (checklist 50-59)


def test_okta_rename_with_same_id() -> None:
    result = patch_group(load("okta-1.8-rename-group.json"))
    assert result.doc == {"schemas": [GROUP_URN], "displayName": "Test SCIMv2", "externalId": "ext-1"}
    assert result.member_changes == []


def test_entra_rename_by_path() -> None:
    result = patch_group(load("entra-2.8-rename-group.json"))
    assert result.doc["displayName"] == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"


def test_okta_mixed_remove_and_add_kept_in_order() -> None:
    result = patch_group(load("okta-1.8-membership-remove-add.json"))
    assert result.member_changes == [
        RemoveMembers(("89bb1940-b905-4575-9e7f-6f887cfb368e",)),
        AddMembers(("23a35c27-23d3-4c03-b4c5-6443c09e7173",)),
    ]
    assert "members" not in result.doc


def test_okta_full_push_replace() -> None:
    assert patch_group(load("okta-1.8-membership-replace.json")).member_changes == [
        ReplaceMembers(("23a35c27-23d3-4c03-b4c5-6443c09e7173", "89bb1940-b905-4575-9e7f-6f887cfb368e"))
    ]


def test_okta_empty_push_clears() -> None:
    assert patch_group(load("okta-1.8-empty-push.json")).member_changes == [ReplaceMembers(())]


def test_okta_no_path_members_replace() -> None:
    assert patch_group(load("okta-1.8-no-path-members.json")).member_changes == [
        ReplaceMembers(("23a35c27-23d3-4c03-b4c5-6443c09e7173",))
    ]


def test_no_path_add_with_members_and_rename() -> None:
    body = ops(
        {
            "op": "add",
            "value": {"Members": [{"value": "a"}, {"value": "a"}, {"value": "b"}], "displayName": "N"},
        }
    )
    result = patch_group(body)
    assert result.member_changes == [AddMembers(("a", "b"))]
    assert result.doc["displayName"] == "N"


def test_member_refs_keep_display_and_type_as_sent() -> None:
    [change] = patch_group(load("okta-1.8-membership-replace.json")).member_changes
    assert isinstance(change, ReplaceMembers)
    assert [(r.value, r.display, r.type) for r in change.refs] == [
        ("23a35c27-23d3-4c03-b4c5-6443c09e7173", "test.user@okta.local", None),
        ("89bb1940-b905-4575-9e7f-6f887cfb368e", "test.user@okta.local", None),
    ]
    [entra] = patch_group(load("entra-2.8-add-members.json")).member_changes
    assert isinstance(entra, AddMembers)
    assert [(r.value, r.display, r.type) for r in entra.refs] == [("f648f8d5ea4e4cd38e9c", None, None)]
    body = ops({"op": "add", "path": "members", "value": [{"value": "a", "Display": "A", "TYPE": "User"}]})
    [typed] = patch_group(body).member_changes
    assert isinstance(typed, AddMembers) and typed.refs[0].display == "A" and typed.refs[0].type == "User"


def test_entra_add_members_with_null_ref() -> None:
    assert patch_group(load("entra-2.8-add-members.json")).member_changes == [
        AddMembers(("f648f8d5ea4e4cd38e9c",))
    ]


def test_entra_remove_by_value_list_never_removes_all() -> None:
    assert patch_group(load("entra-2.8-remove-members.json")).member_changes == [
        RemoveMembers(("f648f8d5ea4e4cd38e9c",))
    ]


def test_entra_aadopt_remove_by_filter() -> None:
    assert patch_group(load("entra-2.8-remove-members-aadopt.json")).member_changes == [
        RemoveMembers(("7f4bc1a3-285e-48ae-8202-5accb43efb0e",))
    ]


def test_remove_by_or_filter_of_several_ids() -> None:
    body = ops({"op": "remove", "path": 'members[value eq "A" or value eq "B" or VALUE EQ "A"]'})
    assert patch_group(body).member_changes == [RemoveMembers(("A", "B"))]


def test_consecutive_removes_become_one_set_operation_and_others_keep_their_order() -> None:
    # Okta removes 1,000 members with 1,000 operations (idp-clients §1.8).
    many = ops(*({"op": "remove", "path": f'members[value eq "u{i}"]'} for i in range(1000)))
    assert patch_group(many).member_changes == [RemoveMembers(tuple(f"u{i}" for i in range(1000)))]
    mixed = ops(
        {"op": "remove", "path": 'members[value eq "A"]'},
        {"op": "remove", "path": "members", "value": [{"value": "B"}]},
        {"op": "add", "path": "members", "value": [{"value": "A"}]},
        {"op": "remove", "path": 'members[value eq "A"]'},
        {"op": "remove", "path": "members"},
        {"op": "remove", "path": 'members[value eq "C"]'},
    )
    assert patch_group(mixed).member_changes == [
        RemoveMembers(("A", "B")),
        AddMembers(("A",)),
        RemoveMembers(("A",)),
        RemoveAllMembers(),
        RemoveMembers(("C",)),
    ]


def test_postman_garbage_string_member_and_extra_keys() -> None:
    assert patch_group(load("entra-2.11-postman-garbage-members.json")).member_changes == [
        AddMembers(("string id 1",))
    ]
    assert patch_group(load("entra-2.11-postman-add-member-extra-keys.json")).member_changes == [
        AddMembers(("00aa00aa-bb11-cc22-dd33-44ee44ee44ee",))
    ]


def test_remove_members_without_value_removes_all() -> None:
    assert patch_group(load("entra-2.11-postman-remove-all-members.json")).member_changes == [
        RemoveAllMembers()
    ]


def test_members_filter_on_other_sub_attribute_is_invalid_filter() -> None:
    with pytest.raises(InvalidFilter):
        patch_group(ops({"op": "remove", "path": 'members[type eq "User"]'}))


def test_members_filter_with_add_is_invalid_path() -> None:
    with pytest.raises(InvalidPath):
        patch_group(ops({"op": "add", "path": 'members[value eq "A"]', "value": {"value": "A"}}))


def test_member_without_value_is_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        patch_group(ops({"op": "add", "path": "members", "value": [{"display": "who?"}]}))


def test_group_id_mismatch_is_mutability() -> None:
    with pytest.raises(Mutability):
        patch_group(ops({"op": "replace", "value": {"id": "other", "displayName": "x"}}))


def test_new_custom_extension_object_in_one_operation() -> None:
    okta_group_urn = "urn:okta:custom:group:1.0"
    doc = patch_user(ops({"op": "add", "value": {okta_group_urn: {"description": "Sales team"}}}))
    assert doc[okta_group_urn] == {"description": "Sales team"}
    by_path = patch_user(ops({"op": "replace", "path": f"{okta_group_urn}:description", "value": "New"}), doc)
    assert by_path[okta_group_urn] == {"description": "New"}


def test_whole_enterprise_extension_path_merges_and_remove_drops_it() -> None:
    doc = patch_user(ops({"op": "replace", "path": ENTERPRISE_USER_URN, "value": {"costCenter": "4130"}}))
    assert doc[ENTERPRISE_USER_URN] == {
        "employeeNumber": "701984",
        "manager": {"value": "boss-id"},
        "costCenter": "4130",
    }
    removed = patch_user(ops({"op": "remove", "path": ENTERPRISE_USER_URN}))
    assert ENTERPRISE_USER_URN not in removed and removed["schemas"] == [USER_URN]
