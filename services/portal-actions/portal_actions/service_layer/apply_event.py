"""Applying one directory event to the portals, inside the consumer's transaction.

Each event is applied at most once (its id is recorded in the same transaction) and never over newer
state: user events older than the last applied version are dropped, and membership pairs carry the group
version of their last change. Through the consumer, an event also waits for its predecessor (see
`domain.ordering`), so that no transition in between is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from scim_core.kinds import ResourceKind

from portal_actions.adapters.postgres import Conn, mirror, tracking
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import DEFAULT_GUARD, GuardPolicy
from portal_actions.domain.ordering import require_predecessor
from portal_actions.service_layer.apply_group import apply_group
from portal_actions.service_layer.apply_user import apply_user
from portal_actions.service_layer.dry_run import apply_user_dry


@dataclass
class Outcome:
    applied: bool
    actions: list[str]


async def apply_event(
    conn: Conn,
    event: DirectoryEvent,
    *,
    wait_for_predecessor: bool = False,
    guard_defaults: GuardPolicy = DEFAULT_GUARD,
) -> Outcome:
    first, dry_run = await tracking.begin(conn, event.event_id, event.workspace_id, event.portal)
    if not first:
        return Outcome(False, [])
    if wait_for_predecessor:
        # Takes the same per-resource lock the apply step takes (advisory locks nest in one transaction).
        lock = mirror.lock_user if event.kind == ResourceKind.USER else mirror.lock_group
        prev = await lock(conn, event.resource_id)
        require_predecessor(event.resource_id, prev["version"] if prev else 0, event.version)
    if event.kind == ResourceKind.USER and dry_run:
        return Outcome(True, await apply_user_dry(conn, event, guard_defaults))
    if event.kind == ResourceKind.USER:
        return Outcome(True, await apply_user(conn, event, guard_defaults))
    return Outcome(True, await apply_group(conn, event, dry_run=dry_run))
