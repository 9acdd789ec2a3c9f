"""The mass-deactivation guard inside the consumer's transaction (see `service_layer.guard`).

A deactivation whose plan is destructive asks the guard first; a held one is stored with its event and
audited as `hold`, and nothing else happens to the portal. Non-destructive events never ask, so they cost
nothing more. A reactivation cancels its user's held deactivation.
"""

from __future__ import annotations

from portal_actions.adapters.postgres import Conn, holds
from portal_actions.domain.deactivation_plan import DeactivationStep
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import GuardPolicy
from portal_actions.service_layer.actions import UserActions


async def admit(
    conn: Conn, event: DirectoryEvent, step: DeactivationStep, acts: UserActions, defaults: GuardPolicy
) -> bool:
    """True if the step may be applied now; otherwise it is held (and audited as such)."""
    if not step.destructive:
        return True
    if not await holds.should_hold(conn, event.workspace_id, event.portal, acts.user_id, defaults):
        return True
    await holds.hold(
        conn,
        workspace_id=event.workspace_id,
        portal=event.portal,
        user_id=acts.user_id,
        user_name=acts.user_name,
        version=event.version,
        event_id=event.event_id,
        request_id=event.request_id,
        reason=event.reason,
        planned_action=step.action,
        planned_summary=step.summary,
    )
    await acts.record("hold", result="held", detail=f"{step.action}: {step.summary}")
    return False


async def cancel_on_reactivation(conn: Conn, event: DirectoryEvent, acts: UserActions) -> None:
    for row in await holds.cancel_for_user(conn, event.workspace_id, event.portal, acts.user_id):
        await acts.record(
            "hold-cancelled", detail=f"{row['planned_action']} held since {row['held_at'].isoformat()}"
        )
