"""The safeguard calls of the PortalAdmin API: previews of deactivations and behaviour changes, and the
mass-deactivation guard (settings, status, release, discard), dry run per connection, the streamed drift
report with repair, and dead-letter replay.

They extend the PortalAdmin servicer, so they share its admin credential check and its one place of
error mapping (`_run`): a rejected argument is INVALID_ARGUMENT, an unknown user or policy NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from scimsuite.portal.v1 import portal_pb2

from portal_actions.domain.behaviour import InvalidBehaviour
from portal_actions.domain.deactivation_plan import DeactivationStep
from portal_actions.domain.drift import Difference
from portal_actions.entrypoints.grpc_admin import (
    Context,
    PortalAdminServicer,
    _behaviour,
    _behaviour_pb,
)
from portal_actions.service_layer.admin import PortalAdmin
from portal_actions.service_layer.dry_run import DryRunStatus
from portal_actions.service_layer.guard import Decision, GuardStatus
from portal_actions.service_layer.preview import UserPreview
from portal_actions.service_layer.refs import NotFound
from portal_actions.service_layer.safeguards import Safeguards


def _step_pb(s: DeactivationStep) -> portal_pb2.PlannedAction:
    return portal_pb2.PlannedAction(
        action=s.action, result=s.result, detail=s.detail, summary=s.summary, destructive=s.destructive
    )


def _user_preview_pb(p: UserPreview) -> portal_pb2.UserPreview:
    return portal_pb2.UserPreview(
        user_id=p.user_id,
        user_name=p.user_name,
        active=p.active,
        actions=[_step_pb(s) for s in p.steps],
        note=p.note,
        held=p.held,
    )


def _guard_pb(g: GuardStatus) -> portal_pb2.GuardStatus:
    return portal_pb2.GuardStatus(
        workspace_id=g.workspace_id,
        portal=g.portal,
        enabled=g.policy.enabled,
        max_actions=g.policy.max_actions,
        max_percent=g.policy.max_percent,
        window_seconds=g.policy.window_seconds,
        explicit=g.explicit,
        held=g.held,
        held_since=g.held_since.isoformat() if g.held_since else "",
        recent_actions=g.recent_actions,
        threshold=g.threshold,
        sample=[
            portal_pb2.HeldAction(
                id=r["id"],
                user_id=str(r["user_id"]),
                user_name=r["user_name"],
                action=r["planned_action"],
                summary=r["planned_summary"],
                held_at=r["held_at"].isoformat(),
                reason=r["reason"],
                event_id=str(r["event_id"]),
            )
            for r in g.sample
        ],
    )


def _decision_pb(d: Decision) -> portal_pb2.DecideHeldResponse:
    return portal_pb2.DecideHeldResponse(
        released=d.released,
        cancelled=d.cancelled,
        discarded=d.discarded,
        outcomes=[
            portal_pb2.HeldOutcome(user_name=o.user_name, action=o.action, result=o.result, detail=o.detail)
            for o in d.outcomes
        ],
    )


def _dry_run_pb(d: DryRunStatus) -> portal_pb2.DryRunStatus:
    return portal_pb2.DryRunStatus(
        workspace_id=d.workspace_id,
        portal=d.portal,
        dry_run=d.dry_run,
        since=d.since.isoformat() if d.since else "",
    )


def _difference_pb(d: Difference, repaired: bool) -> portal_pb2.Difference:
    return portal_pb2.Difference(
        kind=d.kind,
        user_id=d.user_id,
        user_name=d.user_name,
        group_id=d.group_id,
        group_name=d.group_name,
        expected=d.expected,
        actual=d.actual,
        repaired=repaired,
    )


async def _authorised() -> None:
    return None


class SafeguardsServicer(PortalAdminServicer):
    def __init__(self, admin: PortalAdmin, safeguards: Safeguards) -> None:
        super().__init__(admin)
        self.previews = safeguards.previews
        self.guard = safeguards.guard
        self.safeguards = safeguards

    async def PreviewDeactivation(
        self, request: portal_pb2.PreviewDeactivationRequest, context: Context
    ) -> portal_pb2.UserPreview:
        async def call() -> portal_pb2.UserPreview:
            preview = await self.previews.deactivation(request.workspace_id, request.portal, request.user)
            return _user_preview_pb(preview)

        return await self._run(context, call)

    async def PreviewBehaviour(
        self, request: portal_pb2.PreviewBehaviourRequest, context: Context
    ) -> portal_pb2.BehaviourPreview:
        async def call() -> portal_pb2.BehaviourPreview:
            p = await self.previews.behaviour_change(_behaviour(request.behaviour), request.sample_size)
            return portal_pb2.BehaviourPreview(
                behaviour=_behaviour_pb(p.behaviour),
                active_users=p.active_users,
                accounts_removed=p.accounts_removed,
                devices_unassigned=p.devices_unassigned,
                devices_deleted=p.devices_deleted,
                devices_repolicied=p.devices_repolicied,
                sample=[_user_preview_pb(u) for u in p.sample],
            )

        return await self._run(context, call)

    async def GetGuard(self, request: portal_pb2.GetGuardRequest, context: Context) -> portal_pb2.GuardStatus:
        async def call() -> portal_pb2.GuardStatus:
            status = await self.guard.status(request.workspace_id, request.portal, request.sample_size)
            return _guard_pb(status)

        return await self._run(context, call)

    async def SetGuard(self, request: portal_pb2.SetGuardRequest, context: Context) -> portal_pb2.GuardStatus:
        p = request.policy

        async def call() -> portal_pb2.GuardStatus:
            status = await self.guard.set_policy(
                p.workspace_id,
                p.portal,
                enabled=p.enabled if p.HasField("enabled") else None,
                max_actions=p.max_actions if p.HasField("max_actions") else None,
                max_percent=p.max_percent if p.HasField("max_percent") else None,
                window_seconds=p.window_seconds if p.HasField("window_seconds") else None,
            )
            return _guard_pb(status)

        return await self._run(context, call)

    async def ReleaseHeld(
        self, request: portal_pb2.DecideHeldRequest, context: Context
    ) -> portal_pb2.DecideHeldResponse:
        async def call() -> portal_pb2.DecideHeldResponse:
            return _decision_pb(await self.guard.release(request.workspace_id, request.portal, request.actor))

        return await self._run(context, call)

    async def DiscardHeld(
        self, request: portal_pb2.DecideHeldRequest, context: Context
    ) -> portal_pb2.DecideHeldResponse:
        async def call() -> portal_pb2.DecideHeldResponse:
            return _decision_pb(await self.guard.discard(request.workspace_id, request.portal, request.actor))

        return await self._run(context, call)

    async def SetDryRun(
        self, request: portal_pb2.SetDryRunRequest, context: Context
    ) -> portal_pb2.DryRunStatus:
        dry = self.safeguards.dry_runs

        async def call() -> portal_pb2.DryRunStatus:
            if request.dry_run:
                return _dry_run_pb(await dry.enter(request.workspace_id, request.portal))
            status, found, repaired = await self.safeguards.leave_dry_run(
                request.workspace_id, request.portal, request.on_leave
            )
            reply = _dry_run_pb(status)
            reply.differences, reply.repaired = found, repaired
            return reply

        return await self._run(context, call)

    async def GetDryRun(
        self, request: portal_pb2.GetDryRunRequest, context: Context
    ) -> portal_pb2.DryRunStatus:
        async def call() -> portal_pb2.DryRunStatus:
            return _dry_run_pb(await self.safeguards.dry_runs.status(request.workspace_id, request.portal))

        return await self._run(context, call)

    async def Reconcile(
        self, request: portal_pb2.ReconcileRequest, context: Context
    ) -> AsyncIterator[portal_pb2.ReconcilePage]:
        await self._run(context, _authorised)
        pages = self.safeguards.reconciler.run(
            request.workspace_id, request.portal, repair=request.repair, page_size=request.page_size
        )
        try:
            async for page in pages:
                yield portal_pb2.ReconcilePage(
                    differences=[
                        _difference_pb(d, r) for d, r in zip(page.differences, page.repaired, strict=True)
                    ],
                    scanned_users=page.scanned_users,
                    total_users=page.total_users,
                    pending_users=page.pending_users,
                    done=page.done,
                )
        except InvalidBehaviour as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except NotFound as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))

    async def ReplayDeadLetters(
        self, request: portal_pb2.ReplayDeadLettersRequest, context: Context
    ) -> portal_pb2.ReplayDeadLettersResponse:
        async def call() -> portal_pb2.ReplayDeadLettersResponse:
            if not request.event_id.strip() and not request.all:
                raise InvalidBehaviour("name one dead letter (its event id) or ask for all")
            if request.event_id.strip() and request.all:
                raise InvalidBehaviour("name one dead letter or ask for all, not both")
            done = await self.safeguards.replays.replay(request.event_id)
            return portal_pb2.ReplayDeadLettersResponse(
                replayed=[
                    portal_pb2.ReplayedEvent(
                        event_id=r.event_id, applied=r.applied, error=r.error, actions=r.actions
                    )
                    for r in done
                ]
            )

        return await self._run(context, call)
