"""Drift: where a portal's actual state differs from what the directory implies under the current behaviour.

The directory's state is taken from portal-actions' mirror of it (the latest applied event of each user),
and only for users whose mirror has caught up with the directory (same version): a user with events still
in flight is `pending`, not drifted, and is left alone, so a repair never applies a state older than one
on its way. What the directory implies for a user:

- active: an account, unless on-create is `nothing` (an account kept from an earlier behaviour is fine);
  a live account carries the user's userName and the metadata the attribute mapping gives;
- inactive or deleted: no account if on-deactivate removes it; under an MDM device behaviour, no device
  still assigned to them (or, for change-policy, every device on the policy);
- an account of a user the directory has never had should not exist.

The role is the portal's decision at first provisioning (role mapping, settling window) and is fixed
afterwards, so it is not compared; a missing account is re-created as a first provisioning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal_actions.domain.attribute_mapping import metadata_for
from portal_actions.domain.behaviour import Behaviour

REMOVING = ("remove", "remove-user", "remove-user-and-devices")
UNASSIGNING = ("unassign-devices", "remove-user", "remove-user-and-devices")

# The kinds of difference, as reported.
MISSING_ACCOUNT = "missing-account"
ACCOUNT_SHOULD_BE_GONE = "account-should-be-gone"
ACCOUNT_WITHOUT_USER = "account-without-user"
USERNAME_DIFFERENCE = "username-difference"
METADATA_DIFFERENCE = "metadata-difference"
DEVICES_STILL_ASSIGNED = "devices-still-assigned"
DEVICE_POLICY_DIFFERENCE = "device-policy-difference"
MEMBERSHIP_MISSING = "membership-missing"
MEMBERSHIP_EXTRA = "membership-extra"


@dataclass(frozen=True)
class UserState:
    """One user as the reconciliation sees them: directory version, mirror, account and devices."""

    user_id: str
    directory_version: int | None  # None: not (or no longer) in the directory
    mirror_version: int | None
    user_name: str
    active: bool
    deleted: bool
    state: dict[str, Any] | None
    account_status: str | None
    account_user_name: str | None
    account_metadata: dict[str, Any] | None
    devices: tuple[tuple[str, str], ...] = ()  # (serial, policy) assigned to the user

    @property
    def pending(self) -> bool:
        """Events of this user are still on their way: the mirror has not caught up with the directory."""
        if self.directory_version is not None:
            return self.mirror_version != self.directory_version
        # Gone from the directory: settled once the mirror has seen the deletion (or never saw the user).
        return self.mirror_version is not None and not self.deleted


@dataclass(frozen=True)
class Difference:
    kind: str
    user_id: str
    user_name: str
    expected: str
    actual: str
    group_id: str = ""
    group_name: str = ""
    serials: tuple[str, ...] = field(default_factory=tuple)


def user_differences(u: UserState, behaviour: Behaviour, mappings: list[tuple[str, str]]) -> list[Difference]:
    if u.pending:
        return []
    live = u.account_status == "active"
    name = u.user_name or u.account_user_name or u.user_id
    if u.mirror_version is None:
        if live:
            return [Difference(ACCOUNT_WITHOUT_USER, u.user_id, name, "no account", "active account")]
        return []
    out: list[Difference] = []
    if u.active and not u.deleted:
        if not live and behaviour.on_create != "nothing":
            actual = "removed account" if u.account_status == "removed" else "no account"
            out.append(Difference(MISSING_ACCOUNT, u.user_id, name, f"{behaviour.on_create} account", actual))
        if live and u.account_user_name != u.user_name:
            out.append(
                Difference(USERNAME_DIFFERENCE, u.user_id, name, u.user_name, str(u.account_user_name))
            )
        if live:
            want = metadata_for(u.state or {}, mappings)
            if (u.account_metadata or {}) != want:
                out.append(
                    Difference(
                        METADATA_DIFFERENCE, u.user_id, name, _short(want), _short(u.account_metadata or {})
                    )
                )
        return out
    if live and behaviour.on_deactivate in REMOVING:
        out.append(Difference(ACCOUNT_SHOULD_BE_GONE, u.user_id, name, "no account", "active account"))
    if behaviour.portal == "mdm" and u.devices:
        serials = tuple(s for s, _ in u.devices)
        if behaviour.on_deactivate in UNASSIGNING:
            out.append(
                Difference(
                    DEVICES_STILL_ASSIGNED,
                    u.user_id,
                    name,
                    "no device assigned",
                    ", ".join(serials),
                    serials=serials,
                )
            )
        elif behaviour.on_deactivate == "change-policy":
            off = tuple(s for s, p in u.devices if p != behaviour.deactivate_policy)
            if off:
                out.append(
                    Difference(
                        DEVICE_POLICY_DIFFERENCE,
                        u.user_id,
                        name,
                        f"policy {behaviour.deactivate_policy}",
                        ", ".join(f"{s}: {p or 'none'}" for s, p in u.devices if s in off),
                        serials=off,
                    )
                )
    return out


def _short(metadata: dict[str, Any]) -> str:
    return ", ".join(f"{k}={metadata[k]}" for k in sorted(metadata)) or "{}"
