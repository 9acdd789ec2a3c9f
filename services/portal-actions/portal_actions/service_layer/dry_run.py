"""Dry run per connection: the directory behaves as usual (the IdP sees a normal SCIM server), and
portal-actions records in the audit, marked `dry-run`, each action it would apply, and applies nothing to
accounts, devices or roles.

A user event is rehearsed whole (`service_layer.rehearsal`), then only portal-actions' record of the
directory state (the mirror) is brought up to date, so that ordering, transitions and a later
reconciliation work from the true directory state. Groups are portal-actions' copy of the directory's
groups and keep following, audited as live; the role changes they would cause are rehearsed.

Leaving dry run offers two choices:
- `reconcile`: apply the directory's current state now (a repair of every difference), then go on live;
- `start-fresh`: go on live from the next event; what happened during the dry run is not applied (a user
  created meanwhile gets an account at their next activation; `reconcile` shows the differences).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from portal_actions.adapters.postgres import Conn, dry_runs, mirror
from portal_actions.domain.behaviour import InvalidBehaviour
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import GuardPolicy
from portal_actions.service_layer.apply_user import apply_user
from portal_actions.service_layer.refs import portal_ref, workspace_ref
from portal_actions.service_layer.rehearsal import rehearse

ON_LEAVE = ("reconcile", "start-fresh")


async def apply_user_dry(conn: Conn, event: DirectoryEvent, guard_defaults: GuardPolicy) -> list[str]:
    done = await rehearse(conn, event, lambda: apply_user(conn, event, guard_defaults))
    await _mirror_user(conn, event)
    return done


async def _mirror_user(conn: Conn, event: DirectoryEvent) -> None:
    """The mirror part of `apply_user`: the user's latest directory state, and leaving groups on delete."""
    prev = await mirror.lock_user(conn, event.resource_id)
    if prev is not None and event.version <= prev["version"]:
        return
    deleted = event.change == "Deleted"
    state = event.state or {}
    await mirror.save_user(
        conn,
        user_id=event.resource_id,
        connection_id=event.connection_id,
        workspace_id=event.workspace_id,
        portal=event.portal,
        user_name=str(state.get("userName") or (prev["user_name"] if prev else event.resource_id)),
        active=not deleted and state.get("active", True) is True,
        deleted=deleted,
        state=event.state,
        version=event.version,
    )
    if deleted:
        await mirror.clear_user(conn, event.resource_id, event.occurred_at)


@dataclass(frozen=True)
class DryRunStatus:
    workspace_id: str
    portal: str
    dry_run: bool
    since: datetime | None


class DryRuns:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def status(self, workspace_id: str, portal: str) -> DryRunStatus:
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        async with self.pool.acquire() as conn:
            at = await dry_runs.since(conn, ws, p)
        return DryRunStatus(ws, p, at is not None, at)

    async def enter(self, workspace_id: str, portal: str) -> DryRunStatus:
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        async with self.pool.acquire() as conn:
            await dry_runs.enter(conn, ws, p)
        return await self.status(ws, p)

    async def leave(self, workspace_id: str, portal: str, on_leave: str) -> DryRunStatus:
        """Go live (a connection not in dry run stays as it is); the caller reconciles on `reconcile`."""
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        current = await self.status(ws, p)
        if not current.dry_run:
            return current
        if on_leave not in ON_LEAVE:
            raise InvalidBehaviour(
                f"leaving dry run needs a choice: {' or '.join(ON_LEAVE)} (--on-leave), not {on_leave!r}"
            )
        async with self.pool.acquire() as conn:
            await dry_runs.leave(conn, ws, p)
        return await self.status(ws, p)
