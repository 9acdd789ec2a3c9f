"""The rules of the deprovisioning safeguards without I/O: deactivation plans per on-deactivate option,
the guard's thresholds and their validation, the guard default setting, and the held-actions gauge."""

from __future__ import annotations

import pytest
from portal_actions.config import load_settings
from portal_actions.domain.behaviour import Behaviour, InvalidBehaviour
from portal_actions.domain.deactivation_plan import (
    AccountView,
    DeactivationStep,
    DeviceView,
    plan_deactivation,
)
from portal_actions.domain.guard import DEFAULT_GUARD, GUARD_OFF, SHARE_FLOOR, GuardPolicy
from portal_actions.metrics import PortalMetrics
from prometheus_client import CollectorRegistry

WS = "7b6f0c3e-1111-4e8e-9a52-1b0f7e5d9c01"
LIVE = AccountView("active", "developer")
DEVICES = [DeviceView("C02X1", "Standard"), DeviceView("C02X2", "Quarantine")]


def _plan(
    portal: str, on_deactivate: str, account: AccountView | None = LIVE, *, policy_exists: bool = True
) -> DeactivationStep:
    behaviour = Behaviour(WS, portal, "employee", on_deactivate, deactivate_policy="Quarantine")
    devices = DEVICES if portal == "mdm" else []
    return plan_deactivation(behaviour, account, devices, policy_exists=policy_exists)


@pytest.mark.parametrize(
    ("portal", "option", "action", "result", "detail", "summary", "destructive"),
    [
        ("store", "nothing", "none", "applied", "on-deactivate is 'nothing'", "nothing", False),
        ("store", "remove", "remove", "applied", "", "remove employee (role developer)", True),
        ("dashboard", "remove", "remove", "applied", "", "remove collaborator (role developer)", True),
        (
            "mdm",
            "unassign-devices",
            "unassign-devices",
            "applied",
            "unassigned: C02X1, C02X2",
            "unassign devices C02X1, C02X2",
            True,
        ),
        (
            "mdm",
            "change-policy",
            "change-policy",
            "applied",
            "moved to Quarantine: C02X1, C02X2",
            "change the policy of 2 device(s) to Quarantine: C02X1, C02X2",
            True,
        ),
        (
            "mdm",
            "remove-user",
            "remove-user",
            "applied",
            "unassigned: C02X1, C02X2",
            "remove employee (role developer); unassign 2 device(s): C02X1, C02X2",
            True,
        ),
        (
            "mdm",
            "remove-user-and-devices",
            "remove-user-and-devices",
            "applied",
            "deleted: C02X1, C02X2",
            "remove employee (role developer); delete 2 device(s): C02X1, C02X2",
            True,
        ),
    ],
)
def test_each_option_plans_one_audited_step_with_its_effects(
    portal: str, option: str, action: str, result: str, detail: str, summary: str, destructive: bool
) -> None:
    step = _plan(portal, option, policy_exists=True)
    assert (step.action, step.result, step.detail, step.summary) == (action, result, detail, summary)
    assert step.destructive is destructive
    assert step.remove_account is (option in ("remove", "remove-user", "remove-user-and-devices"))
    serials = ("C02X1", "C02X2")
    assert step.delete == (serials if option == "remove-user-and-devices" else ())
    assert step.unassign == (serials if option in ("unassign-devices", "remove-user") else ())


def test_an_account_already_removed_is_not_removed_again() -> None:
    step = _plan("store", "remove", AccountView("removed", ""), policy_exists=True)
    assert (step.action, step.result, step.detail) == ("remove", "skipped", "no account to remove")
    assert not step.destructive
    # Devices still follow the user without an account.
    mdm = _plan("mdm", "remove-user-and-devices", None, policy_exists=True)
    assert (mdm.result, mdm.detail) == ("applied", "no account to remove; deleted: C02X1, C02X2")
    assert mdm.destructive and not mdm.remove_account


def test_a_missing_policy_fails_without_effects() -> None:
    step = _plan("mdm", "change-policy", policy_exists=False)
    assert (step.result, step.detail) == ("failed", "policy 'Quarantine' does not exist")
    assert not step.destructive


def test_guard_defaults_and_threshold_by_portal_size() -> None:
    assert (DEFAULT_GUARD.enabled, DEFAULT_GUARD.max_actions, DEFAULT_GUARD.max_percent) == (True, 50, 10.0)
    assert DEFAULT_GUARD.window_seconds == 3600
    assert DEFAULT_GUARD.threshold(100_000) == 50  # the count binds in a large portal
    assert DEFAULT_GUARD.threshold(300) == 30  # the share binds in a mid-sized one
    assert DEFAULT_GUARD.threshold(5) == SHARE_FLOOR  # a tiny portal is not held at its first departure


@pytest.mark.parametrize(
    "policy",
    [
        GuardPolicy(max_actions=0),
        GuardPolicy(max_actions=-3),
        GuardPolicy(max_percent=0),
        GuardPolicy(max_percent=-1),
        GuardPolicy(max_percent=100.5),
        GuardPolicy(max_percent=float("nan")),
        GuardPolicy(window_seconds=0),
    ],
)
def test_nonsense_thresholds_are_refused(policy: GuardPolicy) -> None:
    with pytest.raises(InvalidBehaviour):
        policy.validate()


def test_guard_default_comes_from_the_environment() -> None:
    assert load_settings({}).guard_defaults == DEFAULT_GUARD
    assert load_settings({"PORTAL_GUARD_DEFAULT": "off"}).guard_defaults == GUARD_OFF
    with pytest.raises(ValueError, match="PORTAL_GUARD_DEFAULT"):
        load_settings({"PORTAL_GUARD_DEFAULT": "maybe"})


def test_held_gauge_drops_to_zero_once_released() -> None:
    registry = CollectorRegistry()
    metrics = PortalMetrics(registry)
    metrics.held_now([(WS, "store", 7)])
    assert registry.get_sample_value("portal_guard_held_actions", {"workspace": WS, "portal": "store"}) == 7
    metrics.held_now([])
    assert registry.get_sample_value("portal_guard_held_actions", {"workspace": WS, "portal": "store"}) == 0
