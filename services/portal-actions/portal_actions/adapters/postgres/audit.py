"""The audit trail: every action applied to a portal, why, when and with what result."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from portal_actions.adapters.postgres import Conn
from portal_actions.domain.admin_views import AuditEntry


@dataclass(frozen=True)
class Cause:
    """Why an action happened: the directory event and the SCIM request behind it."""

    workspace_id: str
    portal: str
    reason: str
    event_id: str | None
    request_id: str | None
    # live (an event applied), released (a held action applied), repair, dry-run (recorded, not applied)
    mode: str = "live"


_COLUMNS = (
    "workspace_id, portal, user_id, user_name, group_name, action, result, reason, event_id, request_id,"
    " detail, mode"
)
_TYPES = ("uuid", "text", "uuid", "text", "text", "text", "text", "text", "uuid", "text", "text", "text")

# Entries of the transaction in progress that are not written yet (`deferred`); None: write at once.
_pending: ContextVar[list[tuple[Any, ...]] | None] = ContextVar("portal_audit_pending", default=None)


@contextlib.asynccontextmanager
async def deferred(conn: Conn) -> AsyncIterator[None]:
    """Inside, `record` keeps its entries and they are written in one statement on the way out, still in
    the caller's transaction: a batch of events pays one audit round trip instead of one per action. An
    exception writes nothing (the transaction rolls back anyway). Whatever reads the audit or writes it
    otherwise in the meantime writes the kept entries first (`flush`), so ids keep the order of actions."""
    token = _pending.set([])
    try:
        yield
        await flush(conn)
    finally:
        _pending.reset(token)


async def flush(conn: Conn) -> None:
    rows = _pending.get()
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    rows.clear()
    params = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(_TYPES))
    await conn.execute(
        f"INSERT INTO portal.audit ({_COLUMNS}) SELECT * FROM unnest({params})", *[list(c) for c in columns]
    )


async def record(
    conn: Conn,
    cause: Cause,
    *,
    action: str,
    result: str = "applied",
    detail: str = "",
    user_id: str | None = None,
    user_name: str | None = None,
    group_name: str | None = None,
) -> None:
    row = (
        cause.workspace_id,
        cause.portal,
        user_id,
        user_name,
        group_name,
        action,
        result,
        cause.reason,
        cause.event_id,
        cause.request_id or None,
        detail,
        cause.mode,
    )
    pending = _pending.get()
    if pending is not None:
        pending.append(row)
        return
    await conn.execute(
        f"INSERT INTO portal.audit ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        *row,
    )


async def record_memberships(
    conn: Conn, cause: Cause, *, action: str, group_name: str, user_ids: list[str]
) -> None:
    """One entry per user whose membership changed, in one statement (a group push may carry thousands)."""
    if not user_ids:
        return
    await flush(conn)
    await conn.execute(
        """
        INSERT INTO portal.audit (workspace_id, portal, user_id, user_name, group_name, action, result,
                                  reason, event_id, request_id, detail, mode)
        SELECT $1, $2, u.id, d.user_name, $3, $4, 'applied', $5, $6, $7, '', $9
          FROM unnest($8::uuid[]) AS u(id) LEFT JOIN portal.directory_users d ON d.user_id = u.id
        """,
        cause.workspace_id,
        cause.portal,
        group_name,
        action,
        cause.reason,
        cause.event_id,
        cause.request_id or None,
        user_ids,
        cause.mode,
    )


async def query(conn: Conn, workspace_id: str, user_name: str, limit: int) -> list[AuditEntry]:
    await flush(conn)
    # A user's entries are found by id as well as by name, so renames and memberships recorded before
    # the user's own event arrived still show up.
    rows = await conn.fetch(
        """
        SELECT * FROM portal.audit a
         WHERE a.workspace_id = $1
           AND ($2 = '' OR lower(a.user_name) = lower($2)
                OR a.user_id IN (SELECT d.user_id FROM portal.directory_users d
                                  WHERE d.workspace_id = $1 AND lower(d.user_name) = lower($2)))
         ORDER BY a.id DESC LIMIT $3
        """,
        workspace_id,
        user_name,
        limit,
    )
    return [
        AuditEntry(
            at=r["at"],
            portal=r["portal"],
            user_name=r["user_name"],
            user_id=None if r["user_id"] is None else str(r["user_id"]),
            action=r["action"],
            result=r["result"],
            reason=r["reason"],
            event_id=None if r["event_id"] is None else str(r["event_id"]),
            request_id=r["request_id"],
            detail=r["detail"],
            group_name=r["group_name"],
            mode=r["mode"],
        )
        for r in rows
    ]
