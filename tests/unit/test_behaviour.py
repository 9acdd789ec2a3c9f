"""Behaviour options per portal, role ranking, and what a user event means (portal_actions.domain)."""

from __future__ import annotations

import pytest
from portal_actions.domain.behaviour import (
    Behaviour,
    InvalidBehaviour,
    default_behaviour,
    highest_role,
    normalize_role,
)
from portal_actions.domain.lifecycle import Transition, transition

WS = "00000000-0000-0000-0000-000000000001"


@pytest.mark.parametrize(
    ("portal", "on_create", "on_deactivate"),
    [
        ("store", "nothing", "nothing"),
        ("store", "employee", "remove"),
        ("dashboard", "collaborator", "nothing"),
        ("dashboard", "nothing", "remove"),
        ("mdm", "employee", "unassign-devices"),
        ("mdm", "nothing", "remove-user"),
        ("mdm", "employee", "remove-user-and-devices"),
        ("mdm", "employee", "nothing"),
    ],
)
def test_every_documented_option_is_accepted(portal: str, on_create: str, on_deactivate: str) -> None:
    assert Behaviour(WS, portal, on_create, on_deactivate).validate().on_deactivate == on_deactivate


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (
            Behaviour(WS, "store", "collaborator", "remove"),
            "on-create 'collaborator' is not an option for store",
        ),
        (Behaviour(WS, "dashboard", "employee", "remove"), "not an option for dashboard"),
        (
            Behaviour(WS, "store", "employee", "remove-user"),
            "on-deactivate 'remove-user' is not an option for store",
        ),
        (Behaviour(WS, "mdm", "employee", "remove"), "choose one of nothing, unassign-devices"),
        (Behaviour(WS, "dashboard", "collaborator", "remove", default_role="unassigned"), "default role"),
        (Behaviour(WS, "mdm", "employee", "change-policy"), "needs a policy"),
        (
            Behaviour(WS, "dashboard", "collaborator", "remove", role_settle_seconds=-1),
            "must not be negative",
        ),
        (Behaviour(WS, "portal", "employee", "remove"), "unknown portal"),
    ],
)
def test_invalid_options_are_refused_with_a_clear_message(behaviour: Behaviour, message: str) -> None:
    with pytest.raises(InvalidBehaviour, match=message):
        behaviour.validate()


def test_change_policy_with_a_policy_is_valid() -> None:
    assert Behaviour(WS, "mdm", "employee", "change-policy", deactivate_policy="Lost").validate()


@pytest.mark.parametrize(
    ("portal", "on_create", "on_deactivate"),
    [
        ("store", "employee", "remove"),
        ("dashboard", "collaborator", "remove"),
        ("mdm", "employee", "remove-user"),
    ],
)
def test_defaults_provision_and_remove_but_never_delete_devices(
    portal: str, on_create: str, on_deactivate: str
) -> None:
    b = default_behaviour(WS, portal).validate()
    assert (b.on_create, b.on_deactivate, b.default_role, b.role_settle_seconds) == (
        on_create,
        on_deactivate,
        "viewer",
        300,
    )


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["developer", "admin", "viewer"], "admin"),
        (["viewer", "developer"], "developer"),
        (["unassigned", "viewer"], "viewer"),
        (["unassigned"], "unassigned"),
        ([], None),
    ],
)
def test_highest_privilege_wins(roles: list[str], expected: str | None) -> None:
    assert highest_role(roles) == expected


@pytest.mark.parametrize(
    ("given", "role"), [("Editor", "developer"), (" ADMIN ", "admin"), ("Developer/Editor", "developer")]
)
def test_role_names_are_normalised(given: str, role: str) -> None:
    assert normalize_role(given) == role


@pytest.mark.parametrize(
    ("was_active", "active", "deleted", "expected"),
    [
        (False, True, False, Transition.ACTIVATED),  # first provisioning, or a reactivation
        (True, False, False, Transition.DEACTIVATED),  # PATCH or PUT active false
        (True, False, True, Transition.DEACTIVATED),  # Entra DELETE of an active user
        (False, False, True, Transition.DELETED_WHILE_INACTIVE),  # Entra DELETE 30 days after the soft delete
        (True, True, False, Transition.UPDATED),  # a profile change
        (False, False, False, Transition.UPDATED),  # created inactive, or changed while inactive
    ],
)
def test_user_transitions(was_active: bool, active: bool, deleted: bool, expected: Transition) -> None:
    assert transition(was_active=was_active, active=active, deleted=deleted) is expected
