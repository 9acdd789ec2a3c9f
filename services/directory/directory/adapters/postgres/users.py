"""User rows. Hot attributes are columns (indexed for filters); the full document is jsonb."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from scim_core import errors

from directory.adapters.postgres import outbox
from directory.adapters.postgres.rows import Conn, parse_id

# `membership_stamp` is [count, sum, max] over the stamps of the user's memberships (each the later of the
# membership row's and its group's name stamp): with `stamp` it determines the User's ETag, so `groups`
# changes show in it while membership writes never touch user rows (migration 0011).
MEMBERSHIP_STAMP = (
    "(SELECT ARRAY[count(*), coalesce(sum(greatest(m.stamp, g.name_stamp)), 0)::bigint,"
    "               coalesce(max(greatest(m.stamp, g.name_stamp)), 0)]"
    "    FROM directory.memberships m JOIN directory.groups g ON g.id = m.group_id"
    "   WHERE m.user_id = u.id)"
)
COLUMNS = (
    "u.id, u.user_name, u.external_id, u.display_name, u.active, u.doc, u.version, u.created_at,"
    f" u.last_modified, u.stamp, {MEMBERSHIP_STAMP} AS membership_stamp"
)


# RFC 7643 §4.1.2 `groups` as one more column of the user's row (`groups_of`, in the same statement as
# the row or the page, so a lookup is one round trip).
GROUPS_COLUMN = (
    "(SELECT coalesce(json_agg(json_build_object('value', g.id::text, 'display', g.display_name,"
    "                                            'type', 'direct') ORDER BY g.display_name), '[]'::json)"
    "    FROM directory.memberships m JOIN directory.groups g ON g.id = m.group_id"
    "   WHERE m.user_id = u.id) AS groups"
)


def _taken(user_name: str) -> errors.Uniqueness:
    """What a write that hit `users_user_name_ci` answers (RFC 7644 §3.12 `uniqueness`)."""
    return errors.Uniqueness(f"a User with userName {user_name!r} already exists")


def _columns(doc: dict[str, Any]) -> tuple[str, str | None, str | None, bool]:
    return (doc["userName"], doc.get("externalId"), doc.get("displayName"), bool(doc.get("active", True)))


async def insert(conn: Conn, connection_id: str, doc: dict[str, Any]) -> asyncpg.Record:
    user_name, external_id, display_name, active = _columns(doc)
    try:
        row = await conn.fetchrow(
            f"""
            INSERT INTO directory.users AS u
                   (id, connection_id, user_name, external_id, display_name, active, doc)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING {COLUMNS}
            """,
            uuid.uuid4(),
            uuid.UUID(connection_id),
            user_name,
            external_id,
            display_name,
            active,
            doc,
        )
    except asyncpg.UniqueViolationError as exc:
        raise _taken(user_name) from exc
    assert row is not None
    return row


def pending(
    user_id: uuid.UUID,
    doc: dict[str, Any],
    *,
    version: int,
    created_at: datetime,
    last_modified: datetime,
    stamp: int,
    membership_stamp: list[int],
) -> dict[str, Any]:
    """The row a write is about to store, shaped as `COLUMNS` returns it: the event that commits in the
    same statement is built from it (`insert_with_event`, `update_with_event`)."""
    user_name, external_id, display_name, active = _columns(doc)
    return {
        "id": user_id,
        "user_name": user_name,
        "external_id": external_id,
        "display_name": display_name,
        "active": active,
        "doc": doc,
        "version": version,
        "created_at": created_at,
        "last_modified": last_modified,
        "stamp": stamp,
        "membership_stamp": membership_stamp,
    }


async def insert_with_event(
    conn: Conn, connection_id: str, row: dict[str, Any], event: Sequence[Any]
) -> None:
    """Insert the `pending` row and its outbox event in one statement, so one round trip and no
    BEGIN/COMMIT: a rejected insert (userName taken) writes no event, and the event cannot commit alone.
    The timestamps are the writer's clock, so the stored row and the published state agree exactly."""
    try:
        await conn.execute(
            f"""
            WITH u AS (
                INSERT INTO directory.users
                       (id, connection_id, user_name, external_id, display_name, active, doc, version,
                        created_at, last_modified)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                RETURNING id
            ), e AS ({outbox.insert_from("u", 11)})
            SELECT 1 FROM u
            """,
            row["id"],
            uuid.UUID(connection_id),
            row["user_name"],
            row["external_id"],
            row["display_name"],
            row["active"],
            row["doc"],
            row["version"],
            row["created_at"],
            row["last_modified"],
            *event,
        )
    except asyncpg.UniqueViolationError as exc:
        raise _taken(row["user_name"]) from exc


async def update_with_event(
    conn: Conn, read: asyncpg.Record, row: dict[str, Any], event: Sequence[Any], *, with_groups: bool
) -> asyncpg.Record | None:
    """Store the `pending` row and its outbox event in one statement, if the user is still as `read` saw
    it (version, stamp and memberships: a compare-and-set instead of a lock held across round trips).

    None when another write got there first (the caller reads again); the event was then not written
    either. Under READ COMMITTED a concurrent update of the row makes PostgreSQL re-check the condition on
    the newer row, which fails on its version."""
    columns = f"{COLUMNS}, {GROUPS_COLUMN}" if with_groups else COLUMNS
    try:
        return await conn.fetchrow(
            f"""
            WITH u AS (
                UPDATE directory.users AS u
                   SET user_name = $2, external_id = $3, display_name = $4, active = $5, doc = $6,
                       version = $7, last_modified = $8, stamp = $9
                 WHERE u.id = $1 AND u.version = $10 AND u.stamp = $11
                   AND {MEMBERSHIP_STAMP} = $12::bigint[]
                RETURNING {columns}
            ), e AS ({outbox.insert_from("u", 13)})
            SELECT * FROM u
            """,
            read["id"],
            row["user_name"],
            row["external_id"],
            row["display_name"],
            row["active"],
            row["doc"],
            row["version"],
            row["last_modified"],
            row["stamp"],
            read["version"],
            read["stamp"],
            list(read["membership_stamp"]),
            *event,
        )
    except asyncpg.UniqueViolationError as exc:
        raise _taken(row["user_name"]) from exc


async def get(
    conn: Conn,
    connection_id: str,
    user_id: str,
    *,
    for_update: bool = False,
    with_groups: bool = False,
    next_stamp: bool = False,
) -> asyncpg.Record | None:
    """The user's row; `with_groups` adds its `groups` (`GROUPS_COLUMN`), `next_stamp` a fresh
    representation stamp for the write that follows (`update_with_event`)."""
    uid = parse_id(user_id)
    if uid is None:
        return None
    lock = " FOR UPDATE" if for_update else ""
    columns = f"{COLUMNS}, {GROUPS_COLUMN}" if with_groups else COLUMNS
    if next_stamp:
        columns += ", nextval('directory.representation_stamps') AS next_stamp"
    return await conn.fetchrow(
        f"SELECT {columns} FROM directory.users u WHERE u.id = $1 AND u.connection_id = $2{lock}",
        uid,
        uuid.UUID(connection_id),
    )


async def update(
    conn: Conn, user_id: Any, doc: dict[str, Any], *, with_groups: bool = False
) -> asyncpg.Record:
    """The row after the update; `with_groups` adds its `groups` (`GROUPS_COLUMN`)."""
    user_name, external_id, display_name, active = _columns(doc)
    columns = f"{COLUMNS}, {GROUPS_COLUMN}" if with_groups else COLUMNS
    try:
        row = await conn.fetchrow(
            f"""
            UPDATE directory.users AS u
               SET user_name = $2, external_id = $3, display_name = $4, active = $5, doc = $6,
                   version = u.version + 1, last_modified = now(),
                   stamp = nextval('directory.representation_stamps')
             WHERE u.id = $1
            RETURNING {columns}
            """,
            user_id,
            user_name,
            external_id,
            display_name,
            active,
            doc,
        )
    except asyncpg.UniqueViolationError as exc:
        raise _taken(user_name) from exc
    assert row is not None
    return row


async def delete(conn: Conn, user_id: Any) -> list[uuid.UUID]:
    """Delete the user; return the groups it was a member of (their membership rows go with it)."""
    groups = await conn.fetch(
        "DELETE FROM directory.memberships WHERE user_id = $1 RETURNING group_id", user_id
    )
    await conn.execute("DELETE FROM directory.users WHERE id = $1", user_id)
    return [r["group_id"] for r in groups]


async def groups_of(conn: Conn, user_ids: list[Any]) -> dict[Any, list[dict[str, str]]]:
    """RFC 7643 §4.1.2 `groups`, computed from membership rows, never stored."""
    out: dict[Any, list[dict[str, str]]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return out
    rows = await conn.fetch(
        """
        SELECT m.user_id, g.id, g.display_name
          FROM directory.memberships m JOIN directory.groups g ON g.id = m.group_id
         WHERE m.user_id = ANY($1::uuid[])
         ORDER BY g.display_name
        """,
        user_ids,
    )
    for r in rows:
        out[r["user_id"]].append({"value": str(r["id"]), "display": r["display_name"], "type": "direct"})
    return out
