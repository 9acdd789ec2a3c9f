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
from portal_actions.service_layer.apply_group import apply_locked_group, group_state
from portal_actions.service_layer.apply_user import apply_locked_user, mirror_state
from portal_actions.service_layer.configuration_reads import DIRECT, ConfigurationReads
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
    config: ConfigurationReads = DIRECT,
) -> Outcome:
    """`config`: where the connection's behaviour and attribute mappings come from (a cache, or the
    database in this transaction)."""
    user = event.kind == ResourceKind.USER
    lock_class = mirror.USER_LOCK if user else mirror.GROUP_LOCK
    first, dry_run = await tracking.begin(
        conn, event.event_id, event.workspace_id, event.portal, lock_class, event.resource_id
    )
    if not first:
        return Outcome(False, [])
    live_user = user and not dry_run
    if live_user:
        # The mirror is saved in the same statement (groups too, below); a predecessor still pending
        # raises after it, and the caller's transaction rolls the save back.
        prev = await mirror.read_and_save_user(conn, **mirror_state(event))
    elif user:
        prev = await mirror.read_user(conn, event.resource_id)  # a dry run rehearses from the old state
    else:
        prev = await mirror.read_and_save_group(conn, **group_state(event))
    if wait_for_predecessor:
        require_predecessor(event.resource_id, prev["version"] if prev else 0, event.version)
    if live_user:
        return Outcome(
            True, await apply_locked_user(conn, event, prev, guard_defaults, config, mirrored=True)
        )
    if user:
        return Outcome(True, await apply_user_dry(conn, event, guard_defaults))
    return Outcome(
        True, await apply_locked_group(conn, event, prev, dry_run=dry_run, config=config, mirrored=True)
    )
