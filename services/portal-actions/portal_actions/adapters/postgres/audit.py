"""The audit trail: every action applied to a portal, why, when and with what result."""

from __future__ import annotations

from typing import Any

import asyncpg


async def record(
    conn: asyncpg.Connection, *, workspace_id: str, portal: str, user_id: str | None, user_name: str | None,
    action: str, result: str, reason: str, event_id: str | None, request_id: str | None, detail: str = "",
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.audit (workspace_id, portal, user_id, user_name, action, result, reason, event_id,
                                  request_id, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        workspace_id, portal, user_id, user_name, action, result, reason, event_id, request_id or None, detail,
    )


async def query(conn: asyncpg.Connection, workspace_id: str, user_name: str, limit: int) -> list[Any]:
    return await conn.fetch(
        """
        SELECT * FROM portal.audit
         WHERE workspace_id = $1 AND ($2 = '' OR lower(user_name) = lower($2))
         ORDER BY id DESC LIMIT $3
        """,
        workspace_id, user_name, limit,
    )
