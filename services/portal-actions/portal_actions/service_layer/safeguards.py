"""The safeguards of deprovisioning in one place, for the admin API and the service wiring: previews, the
mass-deactivation guard (and its metric), dry run, reconciliation with repair, dead-letter replay."""

from __future__ import annotations

import asyncpg

from portal_actions.adapters.postgres import holds
from portal_actions.domain.guard import GuardPolicy
from portal_actions.metrics import PortalMetrics
from portal_actions.service_layer.dry_run import DryRuns, DryRunStatus
from portal_actions.service_layer.guard import Guard
from portal_actions.service_layer.preview import Previews
from portal_actions.service_layer.reconcile import Reconciler
from portal_actions.service_layer.replay import Replays


class Safeguards:
    def __init__(self, pool: asyncpg.Pool, guard_defaults: GuardPolicy) -> None:
        self.pool = pool
        self.previews = Previews(pool)
        self.guard = Guard(pool, guard_defaults)
        self.dry_runs = DryRuns(pool)
        self.reconciler = Reconciler(pool)
        self.replays = Replays(pool, guard_defaults)

    async def leave_dry_run(
        self, workspace_id: str, portal: str, on_leave: str
    ) -> tuple[DryRunStatus, int, int]:
        """Go live; with `reconcile`, then apply the directory's current state (differences, repaired)."""
        was = await self.dry_runs.status(workspace_id, portal)
        status = await self.dry_runs.leave(workspace_id, portal, on_leave)
        found = repaired = 0
        if was.dry_run and on_leave == "reconcile":
            async for page in self.reconciler.run(workspace_id, portal, repair=True):
                found += len(page.differences)
                repaired += sum(page.repaired)
        return status, found, repaired

    async def sample_held(self, metrics: PortalMetrics) -> None:
        async with self.pool.acquire() as conn:
            rows = await holds.held_per_connection(conn)
        metrics.held_now([(str(r["workspace_id"]), r["portal"], int(r["held"])) for r in rows])
