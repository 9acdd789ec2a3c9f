"""Locks taken together with other work are known as held for the rest of their transaction's scope, so
the guard does not ask for its lock again; outside that scope they are not."""

from __future__ import annotations

from datetime import UTC, datetime

from portal_actions.adapters.postgres import held_locks, holds
from portal_actions.domain.events import DirectoryEvent


def test_holding_is_scoped_and_nests() -> None:
    guard = holds.guard_key("ws", "store")
    assert guard == holds.guard_key("ws", "store") and guard != holds.guard_key("ws", "mdm")
    assert not held_locks.held(guard)
    with held_locks.holding([guard]):
        assert held_locks.held(guard)
        with held_locks.holding([(1, "user")]):
            assert held_locks.held(guard) and held_locks.held((1, "user"))
        assert not held_locks.held((1, "user"))
    assert not held_locks.held(guard)


def _event(kind: str, change: str, state: dict[str, object] | None) -> DirectoryEvent:
    return DirectoryEvent(
        event_id="e",
        event_type=f"{kind}{change}",
        occurred_at=datetime.now(UTC),
        workspace_id="ws",
        connection_id="c",
        portal="store",
        kind=kind,
        change=change,
        resource_id="r",
        version=2,
        state=state,
        members_added=(),
        members_removed=(),
        request_id="",
    )


def test_only_user_events_that_leave_the_user_inactive_or_gone_may_deactivate() -> None:
    assert _event("User", "Updated", {"active": False}).may_deactivate
    assert _event("User", "Deleted", None).may_deactivate
    assert not _event("User", "Updated", {"active": True}).may_deactivate
    assert not _event("User", "Created", {"userName": "a"}).may_deactivate  # active unless said otherwise
    assert not _event("Group", "Deleted", None).may_deactivate
