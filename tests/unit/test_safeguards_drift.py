"""Drift rules without I/O: what the directory implies for a user's account and devices, and that users with
events in flight are pending rather than drifted."""

from __future__ import annotations

from dataclasses import replace

from portal_actions.domain import drift
from portal_actions.domain.behaviour import Behaviour
from portal_actions.domain.drift import UserState, user_differences

WS = "7b6f0c3e-1111-4e8e-9a52-1b0f7e5d9c01"
STORE = Behaviour(WS, "store", "employee", "remove")
ACTIVE = UserState(
    user_id="u1",
    directory_version=3,
    mirror_version=3,
    user_name="ana@example.com",
    active=True,
    deleted=False,
    state={"userName": "ana@example.com", "title": "Engineer"},
    account_status="active",
    account_user_name="ana@example.com",
    account_metadata={},
)


def _kinds(u: UserState, b: Behaviour = STORE, mappings: list[tuple[str, str]] | None = None) -> list[str]:
    return [d.kind for d in user_differences(u, b, mappings or [])]


def test_a_settled_user_in_step_with_the_portal_has_no_difference() -> None:
    assert _kinds(ACTIVE) == []


def test_events_in_flight_make_a_user_pending_not_drifted() -> None:
    ahead = replace(ACTIVE, directory_version=4, account_status=None)
    assert ahead.pending and _kinds(ahead) == []
    deleting = replace(ACTIVE, directory_version=None)  # deleted in the directory, event not applied yet
    assert deleting.pending and _kinds(deleting) == []


def test_account_differences_of_active_users() -> None:
    assert _kinds(replace(ACTIVE, account_status=None)) == [drift.MISSING_ACCOUNT]
    assert _kinds(replace(ACTIVE, account_status="removed")) == [drift.MISSING_ACCOUNT]
    nothing = replace(STORE, on_create="nothing")
    assert _kinds(replace(ACTIVE, account_status=None), nothing) == []
    assert _kinds(replace(ACTIVE, account_user_name="old@example.com")) == [drift.USERNAME_DIFFERENCE]
    assert _kinds(ACTIVE, mappings=[("title", "title")]) == [drift.METADATA_DIFFERENCE]
    assert (
        _kinds(replace(ACTIVE, account_metadata={"title": "Engineer"}), mappings=[("title", "title")]) == []
    )


def test_inactive_users_keep_no_account_only_when_the_behaviour_removes_it() -> None:
    gone = replace(ACTIVE, active=False)
    assert _kinds(gone) == [drift.ACCOUNT_SHOULD_BE_GONE]
    assert _kinds(gone, replace(STORE, on_deactivate="nothing")) == []
    # Removed long ago: nothing to do, not "remove again".
    assert _kinds(replace(gone, account_status="removed")) == []
    deleted = replace(ACTIVE, directory_version=None, active=False, deleted=True, account_status="removed")
    assert _kinds(deleted) == []


def test_device_differences_of_inactive_mdm_users() -> None:
    gone = replace(ACTIVE, active=False, account_status="removed", devices=(("S1", "Standard"),))
    unassign = Behaviour(WS, "mdm", "employee", "remove-user-and-devices")
    [d] = user_differences(gone, unassign, [])
    assert (d.kind, d.serials) == (drift.DEVICES_STILL_ASSIGNED, ("S1",))
    policy = Behaviour(WS, "mdm", "employee", "change-policy", deactivate_policy="Quarantine")
    assert _kinds(gone, policy) == [drift.DEVICE_POLICY_DIFFERENCE]
    assert _kinds(replace(gone, devices=(("S1", "Quarantine"),)), policy) == []


def test_an_account_without_a_directory_user_should_not_exist() -> None:
    stray = replace(ACTIVE, directory_version=None, mirror_version=None, user_name="")
    assert _kinds(stray) == [drift.ACCOUNT_WITHOUT_USER]
