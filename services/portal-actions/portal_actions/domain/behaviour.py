"""Provisioning behaviours per portal, as the product document describes them, with their validation."""

from __future__ import annotations

from dataclasses import dataclass

from scim_core.kinds import PORTAL_NAMES

from portal_actions.errors import InvalidRequest

ON_CREATE = {
    "store": ("nothing", "employee"),
    "dashboard": ("nothing", "collaborator"),
    "mdm": ("nothing", "employee"),
}
ON_DEACTIVATE = {
    "store": ("nothing", "remove"),
    "dashboard": ("nothing", "remove"),
    "mdm": ("nothing", "unassign-devices", "change-policy", "remove-user", "remove-user-and-devices"),
}
ROLES = ("admin", "developer", "viewer", "unassigned")
DEFAULT_ROLES = ("admin", "developer", "viewer")
# Admin > Developer/Editor > Viewer > Unassigned (product document, "Role mapping").
ROLE_RANK = {"admin": 3, "developer": 2, "viewer": 1, "unassigned": 0}
ROLE_ALIASES = {"editor": "developer", "developer/editor": "developer"}
# Okta creates a user and pushes the groups that contain them moments later (idp-clients §1.8): five
# minutes covers a push of a few thousand members in batches of 100.
DEFAULT_ROLE_SETTLE_SECONDS = 300


class InvalidBehaviour(InvalidRequest):
    """A behaviour option, role, policy or mapping that the portal does not offer."""


@dataclass(frozen=True)
class Behaviour:
    workspace_id: str
    portal: str
    on_create: str
    on_deactivate: str
    default_role: str = "viewer"
    deactivate_policy: str = ""
    role_settle_seconds: int = DEFAULT_ROLE_SETTLE_SECONDS

    def validate(self) -> Behaviour:
        if self.portal not in ON_CREATE:
            raise InvalidBehaviour(f"unknown portal {self.portal!r}; choose {', '.join(PORTAL_NAMES)}")
        if self.on_create not in ON_CREATE[self.portal]:
            raise InvalidBehaviour(
                f"on-create {self.on_create!r} is not an option for {self.portal}; "
                f"choose {' or '.join(ON_CREATE[self.portal])}"
            )
        if self.on_deactivate not in ON_DEACTIVATE[self.portal]:
            raise InvalidBehaviour(
                f"on-deactivate {self.on_deactivate!r} is not an option for {self.portal}; "
                f"choose one of {', '.join(ON_DEACTIVATE[self.portal])}"
            )
        if self.portal == "dashboard" and self.default_role not in DEFAULT_ROLES:
            raise InvalidBehaviour(
                f"default role {self.default_role!r} is not a role; "
                "choose admin, developer (editor) or viewer"
            )
        if self.on_deactivate == "change-policy" and not self.deactivate_policy:
            raise InvalidBehaviour("on-deactivate change-policy needs a policy (--policy NAME)")
        if self.role_settle_seconds < 0:
            raise InvalidBehaviour("the role settle window must not be negative")
        return self


def normalize_role(role: str) -> str:
    low = role.strip().lower()
    return ROLE_ALIASES.get(low, low)


def default_behaviour(workspace_id: str, portal: str) -> Behaviour:
    """Until an admin chooses, a connection provisions accounts and removes them on deactivation, which is
    what enabling SCIM on a portal is for; MDM devices are kept (unassigned), never deleted by default."""
    on_create = "collaborator" if portal == "dashboard" else "employee"
    on_deactivate = "remove-user" if portal == "mdm" else "remove"
    return Behaviour(workspace_id, portal, on_create, on_deactivate)


def highest_role(roles: list[str]) -> str | None:
    """The most privileged of `roles` (Admin > Developer/Editor > Viewer > Unassigned), None if empty."""
    return max(roles, key=lambda r: ROLE_RANK[r]) if roles else None
