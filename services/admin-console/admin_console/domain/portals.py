"""The three portals and their provisioning behaviours, in the product document's words.

Store and MDM on create: nothing / employee; Dashboard: nothing / collaborator with a default role
(Admin, Developer/Editor, Viewer). Store and Dashboard on deactivate: nothing / remove; MDM: nothing,
unassign devices, change the policy of the devices, remove the user, remove the user and their devices.
portal-actions validates again; this module lets a form say what is wrong next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PORTALS = ("dashboard", "store", "mdm")
PORTAL_NAMES = {"dashboard": "Dashboard", "store": "Enterprise Store", "mdm": "MDM Portal"}


@dataclass(frozen=True)
class Option:
    value: str
    label: str


ON_CREATE: dict[str, tuple[Option, ...]] = {
    "store": (Option("nothing", "Do nothing"), Option("employee", "Create them as an employee")),
    "mdm": (Option("nothing", "Do nothing"), Option("employee", "Create them as an MDM employee")),
    "dashboard": (
        Option("nothing", "Do nothing"),
        Option("collaborator", "Create them as a collaborator"),
    ),
}
ON_DEACTIVATE: dict[str, tuple[Option, ...]] = {
    "store": (Option("nothing", "Do nothing"), Option("remove", "Remove the employee")),
    "dashboard": (Option("nothing", "Do nothing"), Option("remove", "Remove them as a collaborator")),
    "mdm": (
        Option("nothing", "Do nothing"),
        Option("unassign-devices", "Unassign the user from their devices"),
        Option("change-policy", "Change the policy of their assigned devices"),
        Option("remove-user", "Remove the user"),
        Option("remove-user-and-devices", "Remove the user and all their associated devices"),
    ),
}
ROLES = (Option("admin", "Admin"), Option("developer", "Developer / Editor"), Option("viewer", "Viewer"))
MAPPED_ROLES = (*ROLES, Option("unassigned", "Unassigned"))
# The connection's compatibility profile (README "Per-IdP compatibility profiles"): what the IdPs document
# differently, never weaker validation or isolation.
PROFILES = (
    Option("auto", "Automatic: recognise the IdP from its requests"),
    Option("okta", "Okta"),
    Option("entra", "Microsoft Entra ID"),
    Option("generic", "Generic SCIM 2.0 client"),
)


def parse_profile(form: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The chosen profile (`auto` when the field is left out), or the message for the field."""
    value = form.get("profile", "auto").strip() or "auto"
    if value not in {o.value for o in PROFILES}:
        return "", {
            "profile": "Choose a compatibility profile: automatic, Okta, Microsoft Entra ID or generic."
        }
    return value, {}


@dataclass(frozen=True)
class BehaviourChoice:
    on_create: str
    on_deactivate: str
    default_role: str
    deactivate_policy: str


def parse_behaviour(
    portal: str, form: Mapping[str, str], policies: list[str]
) -> tuple[BehaviourChoice | None, dict[str, str]]:
    """The chosen behaviour, or the message for each field that is wrong."""
    errors: dict[str, str] = {}
    on_create = form.get("on_create", "")
    on_deactivate = form.get("on_deactivate", "")
    role = form.get("default_role", "") or "viewer"
    policy = form.get("deactivate_policy", "").strip()
    if on_create not in {o.value for o in ON_CREATE[portal]}:
        errors["on_create"] = "Choose what happens when a user is created."
    if on_deactivate not in {o.value for o in ON_DEACTIVATE[portal]}:
        errors["on_deactivate"] = "Choose what happens when a user is deactivated."
    if portal == "dashboard" and on_create == "collaborator" and role not in {r.value for r in ROLES}:
        errors["default_role"] = "Choose the default role: Admin, Developer / Editor or Viewer."
    if portal == "mdm" and on_deactivate == "change-policy":
        if not policy:
            errors["deactivate_policy"] = "Choose the policy the devices move to."
        elif policy not in policies:
            errors["deactivate_policy"] = f"There is no policy named {policy!r}; add it under Devices first."
    if errors:
        return None, errors
    return (
        BehaviourChoice(
            on_create=on_create,
            on_deactivate=on_deactivate,
            default_role=role if portal == "dashboard" else "",
            deactivate_policy=policy if on_deactivate == "change-policy" else "",
        ),
        {},
    )


def label(options: tuple[Option, ...], value: str) -> str:
    return next((o.label for o in options if o.value == value), value or "—")
