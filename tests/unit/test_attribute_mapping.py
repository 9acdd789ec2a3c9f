"""Resolving SCIM attribute paths into metadata, and which mappings are refused (domain.attribute_mapping)."""

from __future__ import annotations

from typing import Any

import pytest
from portal_actions.domain.attribute_mapping import InvalidMapping, check_mapping, metadata_for, resolve

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM = "urn:ietf:params:scim:schemas:custom:Acme"
USER: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, CUSTOM],
    "userName": "ann@example.com",
    "title": "Engineer",
    "name": {"givenName": "Ann", "familyName": "Lee"},
    "emails": [
        {"value": "home@example.com", "type": "home"},
        {"value": "ann@example.com", "type": "work", "primary": True},
    ],
    "phoneNumbers": [{"value": "+1 555", "type": "work"}],
    ENTERPRISE: {
        "department": "R&D",
        "employeeNumber": "701",
        "manager": {"value": "m-1", "displayName": "Bo"},
    },
    "urn:ietf:params:scim:schemas:custom:acme": {"costCenter": "CC-1", "title": "Custom title"},
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("title", "Engineer"),
        ("name.givenName", "Ann"),
        ("NAME.GIVENNAME", "Ann"),  # RFC 7643 §2.1: names are case-insensitive
        ("emails", "ann@example.com"),  # the primary element's value
        ("emails.type", "work"),
        ("phoneNumbers", "+1 555"),  # no primary: the first element
        (f"{ENTERPRISE}:department", "R&D"),
        (f"{ENTERPRISE}:manager.value", "m-1"),
        (f"{CUSTOM}:costCenter", "CC-1"),  # the URN matches case-insensitively too
        (f"{CUSTOM}:title", "Custom title"),
        ("urn:ietf:params:scim:schemas:core:2.0:User:title", "Engineer"),
        (f"{ENTERPRISE}:costCenter", None),
        ("urn:ietf:params:scim:schemas:custom:Other:title", None),  # never falls back to the core attribute
        ("nickName", None),
    ],
)
def test_resolve(path: str, value: Any) -> None:
    assert resolve(USER, path) == value


def test_metadata_leaves_out_absent_attributes() -> None:
    mappings = [
        (f"{ENTERPRISE}:department", "department"),
        ("nickName", "nick"),
        (f"{CUSTOM}:costCenter", "cc"),
    ]
    assert metadata_for(USER, mappings) == {"department": "R&D", "cc": "CC-1"}


@pytest.mark.parametrize(
    ("attribute", "key", "message"),
    [
        ("title", "role", "reserved"),
        ("title", "UserName", "reserved"),
        ("title", "  ", "must not be empty"),
        ("password", "pw", "cannot be mapped"),
        ("groups", "teams", "cannot be mapped"),
        ("urn:ietf:params:scim:schemas:core:2.0:User:password", "pw", "cannot be mapped"),
        (f"{ENTERPRISE}:", "dept", "not a SCIM attribute path"),
    ],
)
def test_refused_mappings(attribute: str, key: str, message: str) -> None:
    with pytest.raises(InvalidMapping, match=message):
        check_mapping(attribute, key)


def test_accepted_mapping_is_trimmed() -> None:
    assert check_mapping(f" {CUSTOM}:groups ", " team ") == (f"{CUSTOM}:groups", "team")
