"""The on-deactivate behaviours: what a portal does when a user is deactivated or deleted while active.

MDM device effects follow the user's devices (by userName) even when the user has no MDM account, since an
admin may register devices for a user before, or without, provisioning them.
"""

from __future__ import annotations

import asyncpg

from portal_actions.adapters.postgres import Conn, accounts, configuration, devices
from portal_actions.domain.behaviour import Behaviour
from portal_actions.domain.events import DirectoryEvent
from portal_actions.service_layer.actions import UserActions


def _serials(label: str, serials: list[str]) -> str:
    return f"{label}: {', '.join(serials)}" if serials else f"no devices {label}"


async def deprovision(
    conn: Conn, event: DirectoryEvent, behaviour: Behaviour, acts: UserActions, account: asyncpg.Record | None
) -> None:
    action = behaviour.on_deactivate
    ws, name = event.workspace_id, acts.user_name
    if action == "nothing":
        await acts.record("none", detail="on-deactivate is 'nothing'")
    elif action == "unassign-devices":
        await acts.record(action, detail=_serials("unassigned", await devices.unassign_user(conn, ws, name)))
    elif action == "change-policy":
        await _change_policy(conn, ws, behaviour.deactivate_policy, acts)
    elif action == "remove-user":
        serials = await devices.unassign_user(conn, ws, name)
        await _remove(conn, event, acts, account, action, _serials("unassigned", serials), bool(serials))
    elif action == "remove-user-and-devices":
        serials = await devices.delete_for_user(conn, ws, name)
        await _remove(conn, event, acts, account, action, _serials("deleted", serials), bool(serials))
    elif action == "remove":
        await _remove(conn, event, acts, account, action, "", False)
    else:
        await acts.record(action, result="failed", detail=f"unknown on-deactivate option {action!r}")


async def _change_policy(conn: Conn, workspace_id: str, policy: str, acts: UserActions) -> None:
    if not await configuration.policy_exists(conn, workspace_id, policy):
        # Recorded, not raised: a deleted policy must not block the events behind this one.
        await acts.record("change-policy", result="failed", detail=f"policy {policy!r} does not exist")
        return
    serials = await devices.set_policy_for_user(conn, workspace_id, acts.user_name, policy)
    await acts.record("change-policy", detail=_serials(f"moved to {policy}", serials))


async def _remove(
    conn: Conn,
    event: DirectoryEvent,
    acts: UserActions,
    account: asyncpg.Record | None,
    action: str,
    detail: str,
    devices_changed: bool,
) -> None:
    if account is not None and account["status"] == "active":
        await accounts.remove(conn, event.workspace_id, event.portal, acts.user_id)
        await acts.record(action, detail=detail)
        return
    # No account to remove (on-create was 'nothing', or it is already removed); device effects still count.
    result = "applied" if devices_changed else "skipped"
    await acts.record(action, result=result, detail="; ".join(filter(None, ["no account to remove", detail])))
