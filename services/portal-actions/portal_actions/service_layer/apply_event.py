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
from portal_actions.domain.ordering import require_predecessor
from portal_actions.service_layer.apply_group import apply_group
from portal_actions.service_layer.apply_user import apply_user


@dataclass
class Outcome:
    applied: bool
    actions: list[str]


async def apply_event(conn: Conn, event: DirectoryEvent, *, wait_for_predecessor: bool = False) -> Outcome:
    if not await tracking.first_delivery(conn, event.event_id):
        return Outcome(False, [])
    if wait_for_predecessor:
        # Takes the same per-resource lock the apply step takes (advisory locks nest in one transaction).
        lock = mirror.lock_user if event.kind == ResourceKind.USER else mirror.lock_group
        prev = await lock(conn, event.resource_id)
        require_predecessor(event.resource_id, prev["version"] if prev else 0, event.version)
    if event.kind == ResourceKind.USER:
        return Outcome(True, await apply_user(conn, event))
    return Outcome(True, await apply_group(conn, event))
