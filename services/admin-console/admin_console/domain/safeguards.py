"""The safeguards' forms in the console's words: the guard's thresholds (checked here so a bad value is
named beside its field before anything is sent; portal-actions checks again and keeps the old setting on a
refusal), the two ways to leave dry run, and the drift report's kinds of difference (docs/safeguards.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

MAX_ACTIONS = 1_000_000
MAX_WINDOW_MINUTES = 7 * 24 * 60

ON_LEAVE = {
    "reconcile": "Reconcile: apply the directory's current state to the portal now",
    "start-fresh": "Start fresh: apply nothing now, only the events from here on",
}

DIFFERENCE_KINDS = {
    "missing-account": "Missing account",
    "account-should-be-gone": "Account that should be gone",
    "account-without-user": "Account without a directory user",
    "username-difference": "userName difference",
    "metadata-difference": "Metadata difference",
    "devices-still-assigned": "Devices still assigned",
    "device-policy-difference": "Device policy difference",
    "membership-missing": "Missing group membership",
    "membership-extra": "Extra group membership",
}


@dataclass(frozen=True)
class GuardChoice:
    enabled: bool
    max_actions: int
    max_percent: float
    window_seconds: int


def parse_guard(form: Mapping[str, str]) -> tuple[GuardChoice | None, dict[str, str]]:
    """The thresholds form: a count of at least 1, a share above 0 and at most 100 %, a window in whole
    minutes. Any bad field: no choice, and a message per field."""
    errors: dict[str, str] = {}
    raw_actions = form.get("max_actions", "").strip()
    if not raw_actions.isdigit() or not 1 <= int(raw_actions) <= MAX_ACTIONS:
        errors["max_actions"] = f"Enter a whole number of actions, from 1 to {MAX_ACTIONS}."
    raw_percent = form.get("max_percent", "").strip().rstrip("%").strip()
    try:
        percent = float(raw_percent)
    except ValueError:
        percent = math.nan
    if not (math.isfinite(percent) and 0 < percent <= 100):
        errors["max_percent"] = "Enter a share above 0 and at most 100 (per cent of the active accounts)."
    raw_window = form.get("window_minutes", "").strip()
    if not raw_window.isdigit() or not 1 <= int(raw_window) <= MAX_WINDOW_MINUTES:
        errors["window_minutes"] = f"Enter the window in whole minutes, from 1 to {MAX_WINDOW_MINUTES}."
    if errors:
        return None, errors
    return (
        GuardChoice(
            enabled=form.get("enabled", "") == "on",
            max_actions=int(raw_actions),
            max_percent=percent,
            window_seconds=int(raw_window) * 60,
        ),
        {},
    )
