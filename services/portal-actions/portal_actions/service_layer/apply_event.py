"""Applying one directory event to the portals, inside the consumer's transaction.

Each event is applied at most once (its id is recorded in the same transaction) and never over newer
state: user events older than the last applied version are dropped, and membership pairs carry the group
version of their last change.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_actions.adapters.postgres import Conn, tracking
from portal_actions.domain.events import DirectoryEvent
from portal_actions.service_layer.apply_group import apply_group
from portal_actions.service_layer.apply_user import apply_user


@dataclass
class Outcome:
    applied: bool
    actions: list[str]


async def apply_event(conn: Conn, event: DirectoryEvent) -> Outcome:
    if not await tracking.first_delivery(conn, event.event_id):
        return Outcome(False, [])
    if event.kind == "User":
        return Outcome(True, await apply_user(conn, event))
    return Outcome(True, await apply_group(conn, event))
