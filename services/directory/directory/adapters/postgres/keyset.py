"""Keyset pages for RFC 9865 cursors: the rows after (or before) a position in the listing order.

The order is the one index paging uses (search.py): the `sortBy` expression with NULLS LAST, then
`seq` as the tie-breaker, both in the requested direction; without `sortBy`, `seq` alone. A page
starts strictly after the last row the client saw, so rows created or deleted meanwhile never shift
it: a resource that exists during the whole paging (with an unchanged sort value) is listed once.

Row comparisons `(a, b) > ($1, $2)` cannot express NULLS LAST, so the conditions are written out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from scim_core.filter import parse_filter
from scim_core.kinds import ResourceKind
from scim_core.schema import ResourceSchema

from directory.adapters.postgres import groups as groups_repo
from directory.adapters.postgres import users as users_repo
from directory.adapters.postgres.filter_sql import SqlParams, compile_filter, compile_sort
from directory.domain.cursors import Direction, Position

_TABLES: dict[str, tuple[str, str, str]] = {
    ResourceKind.USER: ("directory.users", "u", users_repo.COLUMNS),
    ResourceKind.GROUP: ("directory.groups", "g", groups_repo.COLUMNS),
}
# Extra output columns carrying each row's position; the representations ignore them.
_SORT_KEY = "cursor_sort_key"
_SEQ = "cursor_seq"


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]  # asyncpg records, in listing order
    positions: list[Position]  # the position of each row
    more: bool  # rows exist beyond this page, in the direction it was read
    total: int  # every row the filter matches (RFC 7644 §3.4.2 totalResults)


async def keyset_page(
    conn: Any,
    connection_id: str,
    resource: ResourceSchema,
    *,
    filter_text: str,
    sort_by: str,
    descending: bool,
    direction: Direction,
    position: Position | None,
    limit: int,
) -> KeysetPage:
    """`limit` rows after (`direction="after"`) or before `position`; from the start when it is None."""
    table, alias, columns = _TABLES[resource.name]
    params = SqlParams(start=2)
    where = f"{alias}.connection_id = $1"
    if filter_text.strip():
        where += " AND (" + compile_filter(parse_filter(filter_text), resource, alias, params) + ")"
    key = compile_sort(sort_by, resource, alias, params) if sort_by else None
    count_args = [uuid.UUID(connection_id), *params.values]
    seek = (
        ""
        if position is None
        else " AND " + _beyond(key, f"{alias}.seq", descending, direction, position, params)
    )
    # A page before a position is read backwards from it (nulls first), then put back into listing order.
    scan = "ASC" if (direction == "after") != descending else "DESC"
    nulls = "NULLS LAST" if direction == "after" else "NULLS FIRST"
    order = f"{alias}.seq {scan}" if key is None else f"{key} {scan} {nulls}, {alias}.seq {scan}"
    select_key = key if key is not None else "NULL"
    limit_placeholder = params.add(limit + 1)
    rows = list(
        await conn.fetch(
            f"SELECT {columns}, {select_key} AS {_SORT_KEY}, {alias}.seq AS {_SEQ}"
            f" FROM {table} {alias} WHERE {where}{seek} ORDER BY {order} LIMIT {limit_placeholder}",
            uuid.UUID(connection_id),
            *params.values,
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if direction == "before":
        rows.reverse()
    total = await conn.fetchval(f"SELECT count(*) FROM {table} {alias} WHERE {where}", *count_args)
    return KeysetPage(rows, [Position(r[_SORT_KEY], r[_SEQ]) for r in rows], more, int(total))


def _beyond(
    key: str | None, seq: str, descending: bool, direction: Direction, at: Position, params: SqlParams
) -> str:
    """The condition for rows strictly after (or before) `at` in the listing order.

    Listing order, ascending: non-null keys ascending, then null keys; ties by seq ascending.
    Descending mirrors the comparisons but keeps nulls last, as index paging does.
    """
    later = "<" if descending else ">"
    earlier = ">" if descending else "<"
    cmp = later if direction == "after" else earlier
    s = params.add(at.seq)
    if key is None:
        return f"{seq} {cmp} {s}"
    if at.sort_value is None:
        # Among the null keys (last in the order), only seq decides; every non-null key comes before.
        if direction == "after":
            return f"({key} IS NULL AND {seq} {cmp} {s})"
        return f"({key} IS NOT NULL OR {seq} {cmp} {s})"
    v = params.add(at.sort_value)
    tail = f" OR {key} IS NULL" if direction == "after" else ""
    return f"({key} {cmp} {v} OR ({key} = {v} AND {seq} {cmp} {s}){tail})"
