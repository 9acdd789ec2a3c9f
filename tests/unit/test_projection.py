"""project / needs_members / needs_groups: RFC 7644 §3.4.2.5 attributes and excludedAttributes."""

from __future__ import annotations

from typing import Any

import pytest
from scim_core.projection import needs_groups, needs_members, project
from scim_core.schema import ENTERPRISE_USER_URN, GROUP_RESOURCE, GROUP_URN, USER_RESOURCE, USER_URN

CUSTOM_URN = "urn:ietf:params:scim:schemas:custom:Space"


def user() -> dict[str, Any]:
    """A stored user as the directory would render it, including what projection must filter."""
    return {
        "schemas": [USER_URN, ENTERPRISE_USER_URN, CUSTOM_URN],
        "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "active": True,
        "password": "must-never-leak",
        "emails": [
            {"value": "test.user@okta.local", "type": "work", "primary": True},
            {"value": "home@example.com", "type": "home"},
        ],
        "groups": [{"value": "g1", "display": "Admins"}],
        ENTERPRISE_USER_URN: {"department": "Sales", "manager": {"value": "boss-id"}},
        CUSTOM_URN: {"custom1": "a", "custom2": "b"},
        "meta": {"resourceType": "User", "location": "https://example.com/Users/23a35c27"},
    }


def group() -> dict[str, Any]:
    return {
        "schemas": [GROUP_URN],
        "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
        "displayName": "Test SCIMv2",
        "members": [{"value": "u1", "display": "User One", "type": "User"}],
        "meta": {"resourceType": "Group"},
    }


def test_default_returns_everything_except_never() -> None:
    expected = user()
    del expected["password"]
    assert project(user(), USER_RESOURCE, None, None) == expected


def test_input_is_not_mutated() -> None:
    doc = user()
    project(doc, USER_RESOURCE, ["userName"], ["emails"])
    assert doc == user()


def test_attributes_keep_only_requested_plus_always() -> None:
    out = project(user(), USER_RESOURCE, ["userName", "emails"], None)
    assert out == {
        "schemas": [USER_URN, ENTERPRISE_USER_URN, CUSTOM_URN],
        "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
        "userName": "test.user@okta.local",
        "emails": user()["emails"],
    }


def test_attribute_names_are_case_insensitive() -> None:
    out = project(user(), USER_RESOURCE, ["USERNAME", "Name.GivenName"], None)
    assert out["userName"] == "test.user@okta.local"
    assert out["name"] == {"givenName": "Test"}


def test_sub_attribute_selection_on_multi_valued() -> None:
    out = project(user(), USER_RESOURCE, ["emails.value"], None)
    assert out["emails"] == [{"value": "test.user@okta.local"}, {"value": "home@example.com"}]


def test_password_never_returned_even_when_requested() -> None:
    assert "password" not in project(user(), USER_RESOURCE, ["password", "userName"], None)


def test_urn_qualified_names() -> None:
    out = project(
        user(), USER_RESOURCE, [f"{USER_URN}:userName", f"{ENTERPRISE_USER_URN}:manager.value"], None
    )
    assert out["userName"] == "test.user@okta.local"
    assert out[ENTERPRISE_USER_URN] == {"manager": {"value": "boss-id"}}
    assert "name" not in out


def test_whole_extension_by_urn() -> None:
    out = project(user(), USER_RESOURCE, [ENTERPRISE_USER_URN], None)
    assert out[ENTERPRISE_USER_URN] == user()[ENTERPRISE_USER_URN]
    assert CUSTOM_URN not in out


def test_undeclared_custom_extension_attribute() -> None:
    out = project(user(), USER_RESOURCE, [f"{CUSTOM_URN}:custom2"], None)
    assert out[CUSTOM_URN] == {"custom2": "b"}


def test_value_filter_in_attribute_name_selects_the_attribute() -> None:
    out = project(user(), USER_RESOURCE, ['emails[type eq "work"]'], None)
    assert out["emails"] == user()["emails"]


def test_unknown_requested_names_are_ignored() -> None:
    out = project(user(), USER_RESOURCE, ["favoriteColor"], None)
    assert set(out) == {"schemas", "id"}


def test_excluded_members_on_group() -> None:
    out = project(group(), GROUP_RESOURCE, None, ["members"])
    assert "members" not in out and out["displayName"] == "Test SCIMv2"


def test_excluded_cannot_remove_always_attributes() -> None:
    out = project(user(), USER_RESOURCE, None, ["id", "userName", "name.givenName", ENTERPRISE_USER_URN])
    assert out["id"] == "23a35c27-23d3-4c03-b4c5-6443c09e7173"
    assert "userName" not in out
    assert out["name"] == {"familyName": "User"}
    assert ENTERPRISE_USER_URN not in out
    assert out[CUSTOM_URN] == {"custom1": "a", "custom2": "b"}


def test_excluded_extension_attribute() -> None:
    out = project(user(), USER_RESOURCE, None, [f"{ENTERPRISE_USER_URN}:manager"])
    assert out[ENTERPRISE_USER_URN] == {"department": "Sales"}


def test_attributes_and_excluded_together() -> None:
    out = project(user(), USER_RESOURCE, ["name", "emails"], ["name.familyName"])
    assert out["name"] == {"givenName": "Test"}
    assert len(out["emails"]) == 2


@pytest.mark.parametrize(
    ("attributes", "excluded", "expected"),
    [
        (None, None, True),
        (None, ["members"], False),
        (None, ["Members"], False),
        (None, [f"{GROUP_URN}:members"], False),
        (None, ["members.display"], True),
        (["displayName"], None, False),
        (["displayName", "members.value"], None, True),
        ([f"{GROUP_URN}:members"], None, True),
        (["members"], ["members"], False),
    ],
)
def test_needs_members(attributes: list[str] | None, excluded: list[str] | None, expected: bool) -> None:
    assert needs_members(attributes, excluded) is expected


@pytest.mark.parametrize(
    ("attributes", "excluded", "expected"),
    [
        (None, None, True),
        (None, ["groups"], False),
        (["userName"], None, False),
        (["Groups.display"], None, True),
        ([f"{USER_URN}:groups"], None, True),
    ],
)
def test_needs_groups(attributes: list[str] | None, excluded: list[str] | None, expected: bool) -> None:
    assert needs_groups(attributes, excluded) is expected
