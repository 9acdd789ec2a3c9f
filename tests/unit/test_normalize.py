"""normalize_resource: client POST/PUT bodies to the canonical stored document (idp-clients §5, 25-37)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from scim_core.errors import InvalidSyntax, InvalidValue
from scim_core.normalize import normalize_resource
from scim_core.schema import (
    ENTERPRISE_USER_URN,
    GROUP_RESOURCE,
    GROUP_URN,
    USER_RESOURCE,
    USER_URN,
    Schema,
    resource_with_extensions,
)

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"


def load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return body


def test_okta_create_body_drops_password_groups_and_keeps_profile() -> None:
    body = load("okta-1.4-create-user.json")
    doc = normalize_resource(body, USER_RESOURCE)
    assert doc == {
        "schemas": [USER_URN],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "active": True,
    }


def test_input_is_not_mutated() -> None:
    body = load("entra-2.11-postman-capitalized-user.json")
    before = copy.deepcopy(body)
    normalize_resource(body, USER_RESOURCE)
    assert body == before


def test_okta_put_echo_ignores_id_meta_groups_and_keeps_changes() -> None:
    doc = normalize_resource(load("okta-1.6-put-user.json"), USER_RESOURCE)
    assert "id" not in doc and "meta" not in doc and "groups" not in doc
    assert doc["name"] == {"givenName": "Another", "middleName": "Excited", "familyName": "User"}
    assert doc["emails"][0]["display"] == "test.user@okta.local"
    assert doc["active"] is True


def test_entra_create_with_meta_roles_formatted_and_listed_enterprise_urn() -> None:
    doc = normalize_resource(load("entra-2.4-create-user.json"), USER_RESOURCE)
    assert doc["schemas"] == [USER_URN]  # the URN is listed but no extension object was sent
    assert "meta" not in doc and "roles" not in doc
    assert doc["name"]["formatted"] == "givenName familyName"
    assert doc["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"


def test_entra_example2_nulls_are_absent_and_malformed_urn_is_dropped() -> None:
    doc = normalize_resource(load("entra-2.4-create-user-example2.json"), USER_RESOURCE)
    for absent in ("addresses", "phoneNumbers", "preferredLanguage", "title", "department", "manager"):
        assert absent not in doc
    assert doc["schemas"] == [USER_URN]
    assert doc["displayName"] == "Test User"


@pytest.mark.parametrize(
    ("raw", "expected"), [("True", True), ("false", False), ("FALSE", False), (True, True)]
)
def test_string_booleans_are_coerced(raw: Any, expected: bool) -> None:
    doc = normalize_resource({"userName": "u", "active": raw}, USER_RESOURCE)
    assert doc["active"] is expected


def test_entra_postman_string_true_post() -> None:
    assert normalize_resource(load("entra-2.6-active-string-post.json"), USER_RESOURCE)["active"] is True


def test_non_boolean_string_is_invalid_value() -> None:
    with pytest.raises(InvalidValue) as err:
        normalize_resource({"userName": "u", "active": "yes"}, USER_RESOURCE)
    assert err.value.status == 400 and err.value.scim_type == "invalidValue"


def test_capitalized_names_map_to_schema_spelling_at_every_level() -> None:
    doc = normalize_resource(load("entra-2.11-postman-capitalized-user.json"), USER_RESOURCE)
    assert doc["userName"] == "UserName123"
    assert doc["displayName"] == "BobIsAmazing"
    assert doc["name"] == {"familyName": "Employee", "givenName": "Bob"}
    # Both emails claimed primary: the first keeps it (RFC 7643 §2.4 allows only one).
    assert doc["emails"] == [
        {"primary": True, "type": "work", "value": "bob@example.com"},
        {"primary": False, "type": "home", "value": "bob@example.org"},
    ]
    assert doc[ENTERPRISE_USER_URN] == {"department": "Tour Operations", "manager": {"value": "OyXPBVrCA7rL"}}
    assert doc["schemas"] == [USER_URN, ENTERPRISE_USER_URN]


def test_entra_manager_as_bare_string_becomes_complex() -> None:
    doc = normalize_resource(load("entra-2.7-manager-string-post.json"), USER_RESOURCE)
    assert doc[ENTERPRISE_USER_URN] == {"manager": {"value": "myuser"}}


def test_extension_key_matched_case_insensitively_and_stored_under_canonical_urn() -> None:
    body = {"userName": "u", ENTERPRISE_USER_URN.upper(): {"employeeNumber": 701984}}
    doc = normalize_resource(body, USER_RESOURCE)
    assert doc[ENTERPRISE_USER_URN] == {"employeeNumber": "701984"}
    assert ENTERPRISE_USER_URN.upper() not in doc


def test_unknown_custom_extension_round_trips_verbatim() -> None:
    custom = "urn:ietf:params:scim:schemas:custom:Space"
    body = {"schemas": [USER_URN, custom], "userName": "u", custom: {"custom1": "x", "Nested": {"a": [1]}}}
    doc = normalize_resource(body, USER_RESOURCE)
    assert doc[custom] == {"custom1": "x", "Nested": {"a": [1]}}
    assert doc["schemas"] == [USER_URN, custom]


def test_declared_custom_extension_is_normalized() -> None:
    urn = "urn:example:params:scim:schemas:extension:acme:2.0:User"
    schema = Schema.from_schema_json(
        {
            "id": urn,
            "attributes": [{"name": "badgeNumber", "type": "integer"}, {"name": "remote", "type": "boolean"}],
        }
    )
    resource = resource_with_extensions(USER_RESOURCE, (schema,))
    doc = normalize_resource(
        {"userName": "u", urn: {"BadgeNumber": "42", "remote": "TRUE", "other": 1}}, resource
    )
    assert doc[urn] == {"badgeNumber": 42, "remote": True}


def test_unknown_core_attribute_is_dropped() -> None:
    doc = normalize_resource(
        {"userName": "u", "emial": "typo@example.com", "favoriteColor": "red"}, USER_RESOURCE
    )
    assert doc == {"schemas": [USER_URN], "userName": "u"}


@pytest.mark.parametrize("body", [{}, {"userName": ""}, {"userName": None}, {"displayName": "x"}])
def test_missing_user_name_is_invalid_value(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue, match="userName is required") as err:
        normalize_resource(body, USER_RESOURCE)
    assert err.value.status == 400


def test_missing_group_display_name_is_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="displayName is required"):
        normalize_resource({"members": []}, GROUP_RESOURCE)


def test_body_must_be_an_object() -> None:
    with pytest.raises(InvalidSyntax):
        normalize_resource(["userName"], USER_RESOURCE)  # type: ignore[arg-type]


def test_empty_strings_and_lists_are_absent() -> None:
    doc = normalize_resource(
        {"userName": "u", "title": "", "emails": [], "name": {"givenName": ""}}, USER_RESOURCE
    )
    assert doc == {"schemas": [USER_URN], "userName": "u"}


def test_single_object_for_multi_valued_is_wrapped() -> None:
    doc = normalize_resource({"userName": "u", "emails": {"value": "a@b.c", "type": "work"}}, USER_RESOURCE)
    assert doc["emails"] == [{"value": "a@b.c", "type": "work"}]


def test_duplicate_values_are_collapsed() -> None:
    email = {"value": "a@b.c", "type": "work"}
    doc = normalize_resource({"userName": "u", "emails": [email, dict(email)]}, USER_RESOURCE)
    assert doc["emails"] == [email]


def test_complex_attribute_as_scalar_is_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="name"):
        normalize_resource({"userName": "u", "name": "Bob"}, USER_RESOURCE)


def test_single_valued_attribute_given_several_values_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        normalize_resource({"userName": "u", "title": ["a", "b"]}, USER_RESOURCE)


def test_okta_create_group_empty_members() -> None:
    doc = normalize_resource(load("okta-1.8-create-group.json"), GROUP_RESOURCE)
    assert doc == {"schemas": [GROUP_URN], "displayName": "Test SCIMv2"}


def test_entra_create_group_with_non_urn_schema_and_meta() -> None:
    doc = normalize_resource(load("entra-2.8-create-group.json"), GROUP_RESOURCE)
    assert doc == {
        "schemas": [GROUP_URN],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
    }


def test_group_members_keep_what_the_client_sent_but_ref() -> None:
    doc = normalize_resource(load("okta-1.8-aiw-put-group.json"), GROUP_RESOURCE)
    assert doc["members"] == [
        {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}
    ]
    typed = normalize_resource(
        {"displayName": "g", "members": [{"value": "a", "type": "User", "$ref": "https://x/Users/a"}]},
        GROUP_RESOURCE,
    )
    assert typed["members"] == [{"value": "a", "type": "User"}]


def test_group_members_accept_null_ref_bare_strings_and_dedupe() -> None:
    body = {
        "displayName": "g",
        "members": [
            {"$ref": None, "Value": "a", "type": "User"},
            "string id 1",
            {"value": "a", "display": "A"},
        ],
    }
    doc = normalize_resource(body, GROUP_RESOURCE)
    assert doc["members"] == [{"value": "a", "display": "A"}, {"value": "string id 1"}]


def test_group_member_without_value_is_invalid() -> None:
    with pytest.raises(InvalidValue, match=r"members\.value"):
        normalize_resource({"displayName": "g", "members": [{"display": "no id"}]}, GROUP_RESOURCE)


def test_urn_qualified_core_attribute_key() -> None:
    doc = normalize_resource({f"{USER_URN}:userName": "qualified"}, USER_RESOURCE)
    assert doc["userName"] == "qualified"
