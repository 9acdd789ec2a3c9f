"""The safeguards of deprovisioning in one place, for the admin API and the service wiring: previews, the
mass-deactivation guard (and its metric), dry run."""

from __future__ import annotations

import asyncpg

from portal_actions.adapters.postgres import holds
from portal_actions.domain.guard import GuardPolicy
from portal_actions.metrics import PortalMetrics
from portal_actions.service_layer.dry_run import DryRuns
from portal_actions.service_layer.guard import Guard
from portal_actions.service_layer.preview import Previews


class Safeguards:
    def __init__(self, pool: asyncpg.Pool, guard_defaults: GuardPolicy) -> None:
        self.pool = pool
        self.previews = Previews(pool)
        self.guard = Guard(pool, guard_defaults)
        self.dry_runs = DryRuns(pool)

    async def sample_held(self, metrics: PortalMetrics) -> None:
        async with self.pool.acquire() as conn:
            rows = await holds.held_per_connection(conn)
        metrics.held_now([(str(r["workspace_id"]), r["portal"], int(r["held"])) for r in rows])
