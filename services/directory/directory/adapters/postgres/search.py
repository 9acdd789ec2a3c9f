"""List queries: a compiled filter, a stable order, and RFC 7644 §3.4.2.4 index paging.

`totalResults` is counted before paging. The separate count is skipped only when the page itself proves
the total (a partial, non-empty page, or a partial first page).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg
from scim_core.filter import parse_filter
from scim_core.kinds import ResourceKind
from scim_core.schema import ResourceSchema

from directory.adapters.postgres import groups as groups_repo
from directory.adapters.postgres import users as users_repo
from directory.adapters.postgres.filter_sql import SqlParams, compile_filter, compile_sort
from directory.adapters.postgres.rows import Conn


@dataclass(frozen=True)
class Page:
    rows: list[asyncpg.Record]
    total: int


_TABLES: dict[str, tuple[str, str, str]] = {
    ResourceKind.USER: ("directory.users", "u", users_repo.COLUMNS),
    ResourceKind.GROUP: ("directory.groups", "g", groups_repo.COLUMNS),
}


async def search(
    conn: Conn,
    connection_id: str,
    resource: ResourceSchema,
    *,
    filter_text: str,
    sort_by: str,
    descending: bool,
    offset: int,
    limit: int,
    extra_columns: str = "",
) -> Page:
    """`extra_columns`: more select-list items for the page's rows (`users.GROUPS_COLUMN`)."""
    table, alias, columns = _TABLES[resource.name]
    if extra_columns:
        columns = f"{columns}, {extra_columns}"
    params = SqlParams(start=2)
    where = f"{alias}.connection_id = $1"
    if filter_text.strip():
        where += " AND (" + compile_filter(parse_filter(filter_text), resource, alias, params) + ")"
    direction = "DESC" if descending else "ASC"
    order = f"{alias}.seq {direction}"
    if sort_by:
        order = f"{compile_sort(sort_by, resource, alias, params)} {direction} NULLS LAST, {order}"
    args = [uuid.UUID(connection_id), *params.values]
    rows: list[asyncpg.Record] = []
    if limit > 0:
        n = len(args)
        rows = await conn.fetch(
            f"SELECT {columns} FROM {table} {alias} WHERE {where} ORDER BY {order}"
            f" LIMIT ${n + 1} OFFSET ${n + 2}",
            *args,
            limit,
            offset,
        )
    if 0 < len(rows) < limit or (offset == 0 and len(rows) < limit and limit > 0):
        return Page(rows, offset + len(rows))
    total = await conn.fetchval(f"SELECT count(*) FROM {table} {alias} WHERE {where}", *args)
    return Page(rows, int(total))
