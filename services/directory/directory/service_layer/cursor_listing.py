"""Listing with RFC 9865 cursors: open the client's cursor, read one keyset page, seal the next ones.

A request with an empty cursor asks for the first page (RFC 9865 §2). `nextCursor` is given while
rows remain after the page, `previousCursor` while rows remain before it; both are omitted at the
ends. Each page is authorised afresh (the cursor grants nothing): the connection comes from the
caller's token, and the cursor is bound to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from scim_core.kinds import ResourceKind

from directory.adapters.postgres import groups as groups_repo
from directory.adapters.postgres import users as users_repo
from directory.adapters.postgres.keyset import keyset_page
from directory.domain.cursors import Cursor, CursorCodec, Direction, Position, query_key
from directory.domain.representation import group_representation, user_representation
from directory.domain.tenancy import ConnectionContext
from directory.service_layer.resources import Projection, resource_schema


@dataclass(frozen=True)
class CursorListing:
    resources: list[dict[str, Any]]
    total: int
    next_cursor: str = ""
    previous_cursor: str = ""


class CursorLister:
    def __init__(self, pool: asyncpg.Pool, codec: CursorCodec) -> None:
        self.pool = pool
        self.codec = codec

    async def list(
        self,
        ctx: ConnectionContext,
        kind: str,
        *,
        filter_text: str,
        sort_by: str,
        descending: bool,
        cursor: str,
        limit: int,
        projection: Projection,
    ) -> CursorListing:
        schema = resource_schema(ctx, kind)
        query = query_key(ctx.connection_id, kind, filter_text, sort_by, descending)
        at = self.codec.open(cursor, query) if cursor else None
        direction = at.direction if at is not None else "after"
        async with self.pool.acquire() as conn:
            page = await keyset_page(
                conn,
                ctx.connection_id,
                schema,
                filter_text=filter_text,
                sort_by=sort_by,
                descending=descending,
                direction=direction,
                position=at.position if at is not None else None,
                limit=limit,
            )
            resources = await _represent(conn, kind, page.rows, projection)
        if limit <= 0:
            return CursorListing(resources, page.total)
        # Rows lie beyond the page in the direction it was read when `more`; on the other side whenever
        # the client came from there with a cursor.
        after_more = page.more if direction == "after" else at is not None
        before_more = page.more if direction == "before" else at is not None
        first = page.positions[0] if page.positions else (at.position if at else None)
        last = page.positions[-1] if page.positions else (at.position if at else None)
        return CursorListing(
            resources,
            page.total,
            next_cursor=self._seal(query, "after", last) if after_more else "",
            previous_cursor=self._seal(query, "before", first) if before_more else "",
        )

    def _seal(self, query: bytes, direction: Direction, position: Position | None) -> str:
        return "" if position is None else self.codec.seal(query, Cursor(direction, position))


async def _represent(conn: Any, kind: str, rows: list[Any], projection: Projection) -> list[dict[str, Any]]:
    """Rows to SCIM resources, reading memberships only when the projection returns them."""
    ids = [r["id"] for r in rows]
    if kind == ResourceKind.USER:
        if not projection.with_groups:
            return [user_representation(r) for r in rows]
        groups = await users_repo.groups_of(conn, ids) if ids else {}
        return [user_representation(r, groups.get(r["id"], [])) for r in rows]
    if not projection.with_members:
        return [group_representation(r) for r in rows]
    members = await groups_repo.members_of(conn, ids) if ids else {}
    return [group_representation(r, members.get(r["id"], [])) for r in rows]
