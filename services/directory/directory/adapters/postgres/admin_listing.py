"""What the admin API lists of a connection's resources and of the outbox (read-only queries)."""

from __future__ import annotations

import uuid

from directory.adapters.postgres import outbox
from directory.adapters.postgres.rows import Conn
from directory.domain.admin import GroupSummary, OutboxBacklog, UserSummary


class AdminListing:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def users(self, connection_id: uuid.UUID) -> list[UserSummary]:
        rows = await self.conn.fetch(
            "SELECT id, user_name, external_id, active, version, doc FROM directory.users "
            "WHERE connection_id = $1 ORDER BY seq",
            connection_id,
        )
        return [
            UserSummary(r["id"], r["user_name"], r["external_id"], r["active"], r["version"], r["doc"])
            for r in rows
        ]

    async def groups(self, connection_id: uuid.UUID) -> list[GroupSummary]:
        rows = await self.conn.fetch(
            """
            SELECT g.id, g.display_name, g.version,
                   (SELECT count(*) FROM directory.memberships m WHERE m.group_id = g.id) AS member_count
              FROM directory.groups g WHERE g.connection_id = $1 ORDER BY g.seq
            """,
            connection_id,
        )
        return [GroupSummary(r["id"], r["display_name"], r["version"], r["member_count"]) for r in rows]

    async def outbox_backlog(self) -> OutboxBacklog:
        pending, age = await outbox.backlog(self.conn)
        return OutboxBacklog(pending, age)
