"""Rehearsing part of an event in dry run: run it for real inside a savepoint, keep the audit entries it
wrote (as `dry-run`), and roll every effect back. What the audit shows is exactly what would have happened,
because it is computed by the same code on the same state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from portal_actions.adapters.postgres import Conn, dry_runs
from portal_actions.domain.events import DirectoryEvent


class _Undo(Exception):
    """Rolls the rehearsal's savepoint back."""


async def rehearse(conn: Conn, event: DirectoryEvent, step: Callable[[], Awaitable[list[str]]]) -> list[str]:
    after = await dry_runs.last_audit_id(conn)
    done: list[str] = []
    rows = []
    try:
        async with conn.transaction():
            done = await step()
            rows = await dry_runs.audit_of_event(conn, event.event_id, after)
            raise _Undo
    except _Undo:
        pass
    await dry_runs.record_rehearsed(conn, rows)
    return [f"dry-run:{a}" for a in done]
