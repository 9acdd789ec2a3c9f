"""The on-deactivate behaviours: what a portal does when a user is deactivated or deleted while active.

The step is planned from the user's current account and devices (`domain.deactivation_plan`), then
executed and audited; the preview plans the same way without executing.
"""

from __future__ import annotations

from typing import Any

from portal_actions.adapters.postgres import Conn, Row, accounts, configuration, devices
from portal_actions.domain.behaviour import Behaviour
from portal_actions.domain.deactivation_plan import (
    AccountView,
    DeactivationStep,
    DeviceView,
    plan_deactivation,
)
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import GuardPolicy
from portal_actions.service_layer import guard_check
from portal_actions.service_layer.actions import UserActions


def account_view(account: Row | None) -> AccountView | None:
    if account is None:
        return None
    return AccountView(status=account["status"], role=account["role"] or "")


async def plan_for(
    conn: Conn,
    behaviour: Behaviour,
    account: Row | None,
    user_name: str,
    *,
    lock: bool,
) -> DeactivationStep:
    """Plan from the state as it is now; with `lock`, the user's devices stay locked for the execution."""
    rows: list[Any] = []
    if behaviour.portal == "mdm" and behaviour.on_deactivate != "nothing":
        read = devices.of_user_locked if lock else devices.of_user
        rows = await read(conn, behaviour.workspace_id, user_name)
    exists = True
    if behaviour.on_deactivate == "change-policy":
        exists = await configuration.policy_exists(conn, behaviour.workspace_id, behaviour.deactivate_policy)
    return plan_deactivation(
        behaviour,
        account_view(account),
        [DeviceView(r["serial"], r["policy"] or "") for r in rows],
        policy_exists=exists,
    )


async def execute(conn: Conn, workspace_id: str, portal: str, user_id: str, step: DeactivationStep) -> None:
    if step.unassign:
        await devices.unassign_serials(conn, workspace_id, list(step.unassign))
    if step.delete:
        await devices.delete_serials(conn, workspace_id, list(step.delete))
    if step.repolicy:
        await devices.set_policy_serials(conn, workspace_id, list(step.repolicy), step.set_policy)
    if step.remove_account:
        await accounts.remove(conn, workspace_id, portal, user_id)


async def deprovision(
    conn: Conn,
    event: DirectoryEvent,
    behaviour: Behaviour,
    acts: UserActions,
    account: Row | None,
    guard_defaults: GuardPolicy,
) -> DeactivationStep:
    """Plan, let the mass-deactivation guard hold a destructive step, else execute and audit it."""
    step = await plan_for(conn, behaviour, account, acts.user_name, lock=True)
    if not await guard_check.admit(conn, event, step, acts, guard_defaults):
        return step
    await execute(conn, behaviour.workspace_id, behaviour.portal, acts.user_id, step)
    await acts.record(step.action, result=step.result, detail=step.detail)
    return step
