"""Applying one directory event to the portals, inside the consumer's transaction.

Each event is applied at most once (its id is recorded in the same transaction) and never over newer
state: user events older than the last applied version are dropped, and membership pairs carry the group
version of their last change. Through the consumer, an event also waits for its predecessor (see
`domain.ordering`), so that no transition in between is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scim_core.kinds import ResourceKind

from portal_actions.adapters.postgres import Conn, held_locks, holds, mirror, tracking
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
    locked: bool = False,
) -> Outcome:
    """`config`: where the connection's behaviour and attribute mappings come from (a cache, or the
    database in this transaction). `locked`: the caller already holds the resource's lock
    (`mirror.lock_all`), so recording the event and reading and saving the mirror take one statement."""
    # A deactivation's guard lock is taken with the resource's lock, so the guard's decision does not ask
    # for it again (held_locks); with `locked`, the caller's batch took and marks it.
    guard = None if locked or not event.may_deactivate else holds.guard_key(event.workspace_id, event.portal)
    with held_locks.holding([guard] if guard else []):
        return await _apply_event(conn, event, wait_for_predecessor, guard_defaults, config, locked, guard)


async def _apply_event(
    conn: Conn,
    event: DirectoryEvent,
    wait_for_predecessor: bool,
    guard_defaults: GuardPolicy,
    config: ConfigurationReads,
    locked: bool,
    guard: tuple[int, str] | None,
) -> Outcome:
    user = event.kind == ResourceKind.USER
    # A Dashboard user's account is read only after the connection's role lock (`mirror.lock_roles`).
    with_account = user and event.portal != "dashboard"
    if locked:
        start = await _start(conn, event, user, with_account, event_id=event.event_id)
    else:
        first, dry_run = await tracking.begin(
            conn,
            event.event_id,
            event.workspace_id,
            event.portal,
            mirror.lock_class(event.kind),
            event.resource_id,
            also_lock=guard,
        )
        if not first:
            return Outcome(False, [])
        if user and dry_run:  # a dry run rehearses from the old state: read only
            start = mirror.Start(True, True, await mirror.read_user(conn, event.resource_id))
        else:
            start = replace(await _start(conn, event, user, with_account), dry_run=dry_run)
    if not start.first:
        return Outcome(False, [])
    # The mirror was saved by the statement above; a predecessor still pending raises here, and the
    # caller's transaction rolls the save back.
    if wait_for_predecessor:
        require_predecessor(event.resource_id, start.prev["version"] if start.prev else 0, event.version)
    if user and start.dry_run:
        return Outcome(True, await apply_user_dry(conn, event, guard_defaults))
    if user:
        return Outcome(True, await apply_locked_user(conn, event, start, guard_defaults, config))
    return Outcome(
        True,
        await apply_locked_group(
            conn, event, start.prev, dry_run=start.dry_run, config=config, mirrored=True
        ),
    )


async def _start(
    conn: Conn, event: DirectoryEvent, user: bool, with_account: bool, event_id: str | None = None
) -> mirror.Start:
    if user:
        return await mirror.start_user(
            conn, **mirror_state(event), event_id=event_id, with_account=with_account
        )
    return await mirror.start_group(conn, **group_state(event), event_id=event_id)
