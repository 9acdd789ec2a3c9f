"""Group rows and membership as set operations: one-member changes cost one indexed row, whatever the size."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from scim_core import errors

from directory.adapters.postgres.rows import Conn, parse_id, parse_ids

COLUMNS = "g.id, g.display_name, g.external_id, g.doc, g.version, g.created_at, g.last_modified"


async def insert(conn: Conn, connection_id: str, doc: dict[str, Any]) -> asyncpg.Record:
    try:
        row = await conn.fetchrow(
            f"""
            INSERT INTO directory.groups AS g (id, connection_id, display_name, external_id, doc)
            VALUES ($1, $2, $3, $4, $5)
            RETURNING {COLUMNS}
            """,
            uuid.uuid4(),
            uuid.UUID(connection_id),
            doc["displayName"],
            doc.get("externalId"),
            doc,
        )
    except asyncpg.UniqueViolationError as exc:
        raise errors.Uniqueness(f"a Group with displayName {doc['displayName']!r} already exists") from exc
    assert row is not None
    return row


async def get(
    conn: Conn, connection_id: str, group_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    gid = parse_id(group_id)
    if gid is None:
        return None
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM directory.groups g WHERE g.id = $1 AND g.connection_id = $2{lock}",
        gid,
        uuid.UUID(connection_id),
    )


async def update(conn: Conn, group_id: Any, doc: dict[str, Any]) -> asyncpg.Record:
    try:
        row = await conn.fetchrow(
            f"""
            UPDATE directory.groups AS g
               SET display_name = $2, external_id = $3, doc = $4,
                   version = g.version + 1, last_modified = now()
             WHERE g.id = $1
            RETURNING {COLUMNS}
            """,
            group_id,
            doc["displayName"],
            doc.get("externalId"),
            doc,
        )
    except asyncpg.UniqueViolationError as exc:
        raise errors.Uniqueness(f"a Group with displayName {doc['displayName']!r} already exists") from exc
    assert row is not None
    return row


async def delete(conn: Conn, group_id: Any) -> None:
    await conn.execute("DELETE FROM directory.groups WHERE id = $1", group_id)


async def add_members(
    conn: Conn, connection_id: str, group_id: Any, ids: tuple[str, ...] | list[str]
) -> set[str]:
    """Insert-if-absent; ids that are not users of this connection are ignored. Returns the ids added."""
    wanted = parse_ids(list(ids))
    if not wanted:
        return set()
    rows = await conn.fetch(
        """
        INSERT INTO directory.memberships (group_id, user_id, connection_id)
        SELECT $1, u.id, u.connection_id FROM directory.users u
         WHERE u.id = ANY($2::uuid[]) AND u.connection_id = $3
        ON CONFLICT DO NOTHING
        RETURNING user_id
        """,
        group_id,
        wanted,
        uuid.UUID(connection_id),
    )
    return {str(r["user_id"]) for r in rows}


async def remove_members(conn: Conn, group_id: Any, ids: tuple[str, ...] | list[str]) -> set[str]:
    wanted = parse_ids(list(ids))
    if not wanted:
        return set()
    rows = await conn.fetch(
        "DELETE FROM directory.memberships WHERE group_id = $1 AND user_id = ANY($2::uuid[])"
        " RETURNING user_id",
        group_id,
        wanted,
    )
    return {str(r["user_id"]) for r in rows}


async def remove_all_members(conn: Conn, group_id: Any) -> set[str]:
    rows = await conn.fetch(
        "DELETE FROM directory.memberships WHERE group_id = $1 RETURNING user_id", group_id
    )
    return {str(r["user_id"]) for r in rows}


async def remove_members_except(conn: Conn, group_id: Any, keep: list[str]) -> set[str]:
    rows = await conn.fetch(
        "DELETE FROM directory.memberships WHERE group_id = $1 AND NOT (user_id = ANY($2::uuid[])) "
        "RETURNING user_id",
        group_id,
        parse_ids(keep),
    )
    return {str(r["user_id"]) for r in rows}


async def members_of(conn: Conn, group_ids: list[Any]) -> dict[Any, list[dict[str, str]]]:
    out: dict[Any, list[dict[str, str]]] = {gid: [] for gid in group_ids}
    if not group_ids:
        return out
    rows = await conn.fetch(
        """
        SELECT m.group_id, u.id, coalesce(u.display_name, u.user_name) AS display
          FROM directory.memberships m JOIN directory.users u ON u.id = m.user_id
         WHERE m.group_id = ANY($1::uuid[])
         ORDER BY m.added_at, u.id
        """,
        group_ids,
    )
    for r in rows:
        out[r["group_id"]].append({"value": str(r["id"]), "display": r["display"], "type": "User"})
    return out


async def has_more_members_than(conn: Conn, group_id: Any, limit: int) -> bool:
    """Whether the group has more than `limit` members; reads at most limit + 1 index entries."""
    found = await conn.fetchval(
        "SELECT 1 FROM directory.memberships WHERE group_id = $1 OFFSET $2 LIMIT 1", group_id, limit
    )
    return found is not None
