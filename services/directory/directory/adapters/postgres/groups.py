"""Group rows and membership as set operations: one-member changes cost one indexed row, whatever the size."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from scim_core import errors
from scim_core.patch import MemberRef

from directory.adapters.postgres import outbox
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


def pending(read: asyncpg.Record, doc: dict[str, Any], last_modified: datetime) -> dict[str, Any]:
    """The row `update_with_event` is about to store, shaped as `COLUMNS` returns it, for its event."""
    return {
        "id": read["id"],
        "display_name": doc["displayName"],
        "external_id": doc.get("externalId"),
        "doc": doc,
        "version": read["version"] + 1,
        "created_at": read["created_at"],
        "last_modified": last_modified,
    }


async def update_with_event(conn: Conn, row: dict[str, Any], event: Sequence[Any]) -> asyncpg.Record:
    """`update` and the outbox event built from `pending` in one statement. The caller holds the group's
    row lock (`get(for_update=True)`), so the stored row is exactly the pending one."""
    try:
        written = await conn.fetchrow(
            f"""
            WITH g AS (
                UPDATE directory.groups AS g
                   SET display_name = $2, external_id = $3, doc = $4, version = $5, last_modified = $6,
                       -- members' `groups[].display` is this name: a rename must change their ETags
                       name_stamp = CASE WHEN g.display_name IS DISTINCT FROM $2
                                         THEN nextval('directory.representation_stamps') ELSE g.name_stamp END
                 WHERE g.id = $1
                RETURNING {COLUMNS}
            ), e AS ({outbox.insert_from("g", 7)})
            SELECT * FROM g
            """,
            row["id"],
            row["display_name"],
            row["external_id"],
            row["doc"],
            row["version"],
            row["last_modified"],
            *event,
        )
    except asyncpg.UniqueViolationError as exc:
        raise errors.Uniqueness(f"a Group with displayName {row['display_name']!r} already exists") from exc
    assert written is not None
    return written


async def delete(conn: Conn, group_id: Any) -> None:
    await conn.execute("DELETE FROM directory.groups WHERE id = $1", group_id)


@dataclass(frozen=True)
class MembersAdded:
    """What an add did: the ids that became members, and whether an existing member's `display` or
    `type` changed (the group's representation changed without a membership change)."""

    ids: set[str]
    relabelled: bool


async def add_members(
    conn: Conn, connection_id: str, group_id: Any, refs: Sequence[MemberRef], *, exact: bool = False
) -> MembersAdded:
    """Insert-if-absent, keeping each member's `display` and `type` as sent; ids that are not users of
    this connection are ignored.

    For an existing member a PATCH `add` only updates what it gives (`exact=False`); a PUT or a
    `replace` sets exactly what it sends (`exact=True`), so a missing `display` clears it.
    """
    wanted: dict[uuid.UUID, MemberRef] = {}
    for ref in refs:
        uid = parse_id(ref.value)
        if uid is not None:
            wanted[uid] = ref
    if not wanted:
        return MembersAdded(set(), False)
    if exact:
        display, member_type = "EXCLUDED.display", "EXCLUDED.member_type"
    else:
        display, member_type = (
            "coalesce(EXCLUDED.display, m.display)",
            "coalesce(EXCLUDED.member_type, m.member_type)",
        )
    rows = await conn.fetch(
        f"""
        INSERT INTO directory.memberships AS m (group_id, user_id, connection_id, display, member_type)
        SELECT $1, u.id, u.connection_id, w.display, w.member_type
          FROM unnest($2::uuid[], $4::text[], $5::text[]) AS w (user_id, display, member_type)
          JOIN directory.users u ON u.id = w.user_id AND u.connection_id = $3
        ON CONFLICT (group_id, user_id) DO UPDATE SET display = {display}, member_type = {member_type}
         WHERE (m.display, m.member_type) IS DISTINCT FROM ({display}, {member_type})
        RETURNING m.user_id, (m.xmax = 0) AS inserted
        """,
        group_id,
        list(wanted),
        uuid.UUID(connection_id),
        [r.display for r in wanted.values()],
        [r.type for r in wanted.values()],
    )
    added = {str(r["user_id"]) for r in rows if r["inserted"]}
    return MembersAdded(added, len(added) < len(rows))


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
    """Members as the client sent them (`display` and `type` only when given; README "Member display")."""
    out: dict[Any, list[dict[str, str]]] = {gid: [] for gid in group_ids}
    if not group_ids:
        return out
    rows = await conn.fetch(
        """
        SELECT m.group_id, m.user_id, m.display, m.member_type
          FROM directory.memberships m
         WHERE m.group_id = ANY($1::uuid[])
         ORDER BY m.added_at, m.user_id
        """,
        group_ids,
    )
    for r in rows:
        out[r["group_id"]].append(_member(r))
    return out


def _member(r: asyncpg.Record) -> dict[str, str]:
    member = {"value": str(r["user_id"])}
    if r["display"] is not None:
        member["display"] = r["display"]
    if r["member_type"] is not None:
        member["type"] = r["member_type"]
    return member


async def members_if_at_most(conn: Conn, group_id: Any, limit: int) -> list[dict[str, str]] | None:
    """`members_of` one group if it has at most `limit` members, else None: one statement that reads at
    most limit + 1 index entries (unordered, so a large group is never sorted), ordering only those."""
    rows = await conn.fetch(
        """
        SELECT f.user_id, f.display, f.member_type
          FROM (SELECT m.user_id, m.display, m.member_type, m.added_at
                  FROM directory.memberships m WHERE m.group_id = $1 LIMIT $2) f
         ORDER BY f.added_at, f.user_id
        """,
        group_id,
        limit + 1,
    )
    return None if len(rows) > limit else [_member(r) for r in rows]


@dataclass(frozen=True)
class PatchRead:
    """What a Group PATCH reads in its one statement (`read_for_patch`): the row, the current members
    among the ids the operations name (with their labels), which of those ids are users of the group's
    connection, and the group's first members in response order (None when the answer shows none)."""

    row: asyncpg.Record
    named_members: dict[str, tuple[str | None, str | None]]
    named_users: frozenset[str]
    first_members: list[dict[str, str]] | None


async def read_for_patch(
    conn: Conn, connection_id: str, group_id: str, named: list[str], first_members: int
) -> PatchRead | None:
    """One statement, no lock: the compare-and-set write that follows (`patch_with_event`) fails if the
    group changed since. `first_members` = 0 reads no members; otherwise at most that many (unordered, so a
    large group is never sorted), ordered as `members_of` orders them."""
    gid = parse_id(group_id)
    if gid is None:
        return None
    row = await conn.fetchrow(
        f"""
        SELECT {COLUMNS},
               (SELECT coalesce(json_agg(json_build_array(m.user_id, m.display, m.member_type)), '[]'::json)
                  FROM directory.memberships m
                 WHERE m.group_id = g.id AND m.user_id = ANY($3::uuid[])) AS named_members,
               (SELECT coalesce(array_agg(u.id), '{{}}'::uuid[])
                  FROM directory.users u
                 WHERE u.id = ANY($3::uuid[]) AND u.connection_id = g.connection_id) AS named_users,
               (SELECT json_agg(json_build_array(f.user_id, f.display, f.member_type)
                                ORDER BY f.added_at, f.user_id)
                  FROM (SELECT m.user_id, m.display, m.member_type, m.added_at
                          FROM directory.memberships m WHERE m.group_id = g.id LIMIT $4) f) AS first_members
          FROM directory.groups g
         WHERE g.id = $1 AND g.connection_id = $2
        """,
        gid,
        uuid.UUID(connection_id),
        [uuid.UUID(i) for i in named],
        first_members,
    )
    if row is None:
        return None
    first = row["first_members"]
    return PatchRead(
        row=row,
        named_members={str(uid): (display, kind) for uid, display, kind in row["named_members"]},
        named_users=frozenset(str(u) for u in row["named_users"]),
        first_members=[_listed(m) for m in first or ()] if first_members else None,
    )


def _listed(item: list[Any]) -> dict[str, str]:
    uid, display, kind = item
    member = {"value": str(uid)}
    if display is not None:
        member["display"] = display
    if kind is not None:
        member["type"] = kind
    return member


class Conflict(Exception):
    """A compare-and-set Group write lost: the group, or a user it was adding, changed since the read."""


async def patch_with_event(
    conn: Conn,
    connection_id: str,
    read: asyncpg.Record,
    row: dict[str, Any],
    removed: list[str],
    upserts: dict[str, tuple[str | None, str | None]],
    event: Sequence[Any],
) -> asyncpg.Record | None:
    """The `pending` row, its membership rows and its outbox event in one statement, if the group is still
    at the version `read` saw; None otherwise, and then nothing was written.

    Membership rows change only through a Group write, and every Group write bumps the version, so the
    version alone tells that the named members are as read; a user deleted meanwhile makes the insert
    violate its foreign key, which is a lost race too (`Conflict`). Under READ COMMITTED a concurrent
    write of the row makes PostgreSQL re-check the version on the newer row, which fails.
    """
    ids = list(upserts)
    try:
        return await conn.fetchrow(
            f"""
            WITH g AS (
                UPDATE directory.groups AS g
                   SET display_name = $2, external_id = $3, doc = $4, version = $5, last_modified = $6,
                       name_stamp = CASE WHEN g.display_name IS DISTINCT FROM $2
                                         THEN nextval('directory.representation_stamps') ELSE g.name_stamp END
                 WHERE g.id = $1 AND g.version = $7
                RETURNING {COLUMNS}
            ), d AS (
                DELETE FROM directory.memberships m
                 WHERE m.group_id = $1 AND m.user_id = ANY($8::uuid[]) AND EXISTS (SELECT 1 FROM g)
            ), i AS (
                INSERT INTO directory.memberships AS m
                       (group_id, user_id, connection_id, display, member_type)
                SELECT $1, w.user_id, $9, w.display, w.member_type
                  FROM unnest($10::uuid[], $11::text[], $12::text[]) AS w (user_id, display, member_type)
                 WHERE EXISTS (SELECT 1 FROM g)
                ON CONFLICT (group_id, user_id)
                DO UPDATE SET display = EXCLUDED.display, member_type = EXCLUDED.member_type
            ), e AS ({outbox.insert_from("g", 13)})
            SELECT * FROM g
            """,
            read["id"],
            row["display_name"],
            row["external_id"],
            row["doc"],
            row["version"],
            row["last_modified"],
            read["version"],
            [uuid.UUID(i) for i in removed],
            uuid.UUID(connection_id),
            [uuid.UUID(i) for i in ids],
            [upserts[i][0] for i in ids],
            [upserts[i][1] for i in ids],
            *event,
        )
    except asyncpg.UniqueViolationError as exc:
        raise errors.Uniqueness(f"a Group with displayName {row['display_name']!r} already exists") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise Conflict() from exc
