"""What deactivating one user does to one portal, decided before anything is changed.

The consumer executes this plan when a deactivation arrives, and the preview shows it without executing
it, so the two cannot disagree: both call `plan_deactivation` on the same state. A plan is one step,
recorded as one audit entry (`action`, `result`, `detail`), plus the effects that step has on the
account and the user's MDM devices.

MDM device effects follow the user's devices (by userName) even when the user has no MDM account, since an
admin may register devices for a user before, or without, provisioning them.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_actions.domain.behaviour import Behaviour


@dataclass(frozen=True)
class DeviceView:
    serial: str
    policy: str


@dataclass(frozen=True)
class AccountView:
    status: str  # active | removed
    role: str


@dataclass(frozen=True)
class DeactivationStep:
    action: str
    result: str  # applied | skipped | failed
    detail: str
    summary: str  # for people: "remove collaborator (role developer)", "delete devices C02X1, C02X2"
    remove_account: bool = False
    unassign: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    set_policy: str = ""
    repolicy: tuple[str, ...] = ()

    @property
    def destructive(self) -> bool:
        """Removes an account or touches devices: what the mass-deactivation guard counts and holds."""
        return bool(self.remove_account or self.unassign or self.delete or self.repolicy)


ACCOUNT_NAMES = {"dashboard": "collaborator", "store": "employee", "mdm": "employee"}


def _serials(label: str, serials: tuple[str, ...]) -> str:
    return f"{label}: {', '.join(serials)}" if serials else f"no devices {label}"


def _account_summary(portal: str, account: AccountView) -> str:
    role = f" (role {account.role})" if account.role else ""
    return f"remove {ACCOUNT_NAMES[portal]}{role}"


def plan_deactivation(
    behaviour: Behaviour,
    account: AccountView | None,
    devices: list[DeviceView],
    *,
    policy_exists: bool,
) -> DeactivationStep:
    """The on-deactivate behaviour applied to the user's current account and devices."""
    action = behaviour.on_deactivate
    serials = tuple(d.serial for d in devices)
    live = account is not None and account.status == "active"
    if action == "nothing":
        return DeactivationStep("none", "applied", "on-deactivate is 'nothing'", "nothing")
    if action == "unassign-devices":
        return DeactivationStep(
            action,
            "applied",
            _serials("unassigned", serials),
            f"unassign devices {', '.join(serials)}" if serials else "no devices to unassign",
            unassign=serials,
        )
    if action == "change-policy":
        policy = behaviour.deactivate_policy
        if not policy_exists:
            # Recorded, not raised: a deleted policy must not block the events behind this one.
            return DeactivationStep(
                action,
                "failed",
                f"policy {policy!r} does not exist",
                f"fail: policy {policy!r} does not exist",
            )
        moved = tuple(d.serial for d in devices if d.policy != policy)
        summary = (
            f"change the policy of {len(serials)} device(s) to {policy}: {', '.join(serials)}"
            if serials
            else "no devices to move"
        )
        return DeactivationStep(
            action,
            "applied",
            _serials(f"moved to {policy}", serials),
            summary,
            set_policy=policy,
            repolicy=serials if moved else (),
        )
    if action in ("remove-user", "remove-user-and-devices"):
        deletes = action == "remove-user-and-devices"
        detail = _serials("deleted" if deletes else "unassigned", serials)
        device_summary = (
            f"{'delete' if deletes else 'unassign'} {len(serials)} device(s): {', '.join(serials)}"
            if serials
            else ""
        )
        unassign, delete = ((), serials) if deletes else (serials, ())
        return _remove(
            behaviour.portal, account if live else None, action, detail, device_summary, unassign, delete
        )
    if action == "remove":
        return _remove(behaviour.portal, account if live else None, action, "", "", (), ())
    return DeactivationStep(
        action, "failed", f"unknown on-deactivate option {action!r}", f"fail: unknown option {action!r}"
    )


def _remove(
    portal: str,
    live: AccountView | None,
    action: str,
    detail: str,
    device_summary: str,
    unassign: tuple[str, ...],
    delete: tuple[str, ...],
) -> DeactivationStep:
    if live is not None:
        summary = "; ".join(filter(None, [_account_summary(portal, live), device_summary]))
        return DeactivationStep(
            action, "applied", detail, summary, remove_account=True, unassign=unassign, delete=delete
        )
    # No account to remove (on-create was 'nothing', or it is already removed); device effects still count.
    return DeactivationStep(
        action,
        "applied" if unassign or delete else "skipped",
        "; ".join(filter(None, ["no account to remove", detail])),
        "; ".join(filter(None, ["no account to remove", device_summary])),
        unassign=unassign,
        delete=delete,
    )
