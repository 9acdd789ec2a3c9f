"""The latest applied directory state of users, groups and membership pairs (the ordering guard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from scim_core.kinds import ResourceKind

from portal_actions.adapters.postgres import Conn, Row, audit
from portal_actions.domain.admin_views import PortalGroup

# Classes of the two-key advisory locks, so that a user, a group and a connection never share a key.
USER_LOCK, GROUP_LOCK, _ROLES_LOCK = 1, 2, 3


def lock_class(kind: str) -> int:
    return USER_LOCK if kind == ResourceKind.USER else GROUP_LOCK


async def lock_user(conn: Conn, user_id: str) -> asyncpg.Record | None:
    # Serialises concurrent events of one user across consumer replicas; the row may not exist yet,
    # so an advisory lock on the id covers the first event too.
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", USER_LOCK, user_id)
    return await read_user(conn, user_id)


async def read_user(conn: Conn, user_id: str) -> asyncpg.Record | None:
    """The user's mirror row; the caller holds its lock (`lock_user`, or `tracking.begin`'s)."""
    return await conn.fetchrow("SELECT * FROM portal.directory_users WHERE user_id = $1", user_id)


async def lock_roles(conn: Conn, connection_id: str) -> None:
    """Serialise a connection's Dashboard role decisions: a user's first provisioning reads memberships
    that a concurrent group event may be writing, and that event reads the account the provisioning
    writes. Taken after the membership writes and before any account row is read, by both sides."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _ROLES_LOCK, connection_id)


async def save_user(
    conn: Conn,
    *,
    user_id: str,
    connection_id: str,
    workspace_id: str,
    portal: str,
    user_name: str,
    active: bool,
    deleted: bool,
    state: dict[str, Any] | None,
    version: int,
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.directory_users
               (user_id, connection_id, workspace_id, portal, user_name, active, deleted, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (user_id) DO UPDATE SET user_name = EXCLUDED.user_name, active = EXCLUDED.active,
               deleted = EXCLUDED.deleted, state = coalesce(EXCLUDED.state, portal.directory_users.state),
               version = EXCLUDED.version
        """,
        user_id,
        connection_id,
        workspace_id,
        portal,
        user_name,
        active,
        deleted,
        state,
        version,
    )


@dataclass(frozen=True)
class Start:
    """What an event's first statement found: whether this delivery is the first (always True when the
    statement did not record it), the connection's dry-run flag, the resource's mirror row as it was, and
    (for users, when asked) the user's account, locked."""

    first: bool
    dry_run: bool
    prev: Row | None
    account: Row | None = None
    account_read: bool = False


def _start_sql(
    table: str,
    key: str,
    columns: str,
    values: str,
    update: str,
    *,
    event: str,
    account: bool,
    save_in_dry_run: bool,
) -> str:
    """One statement that reads the resource's mirror row and saves the event's state if it is newer; with
    an `event` parameter ("$n"), it first records the event as applied and reads the dry-run flag, and saves
    only on a first delivery outside dry run; with `account`, it also reads and locks the user's account.
    $1 is the resource id, $3 and $4 its workspace and portal. The caller holds the resource's lock."""
    record = bool(event)
    ctes = []
    if record:
        ctes += [
            f"recorded AS (INSERT INTO portal.processed_events (event_id) VALUES ({event})"
            " ON CONFLICT DO NOTHING RETURNING 1)",
            "dry AS (SELECT EXISTS (SELECT 1 FROM portal.dry_runs WHERE workspace_id = $3 AND portal = $4)"
            " AS dry_run)",
        ]
    gate = ""
    if record:
        gate = " WHERE EXISTS (SELECT 1 FROM recorded)"
        gate += "" if save_in_dry_run else " AND NOT (SELECT dry_run FROM dry)"
    ctes.append(f"prev AS (SELECT * FROM {table} WHERE {key} = $1)")
    ctes.append(
        f"saved AS (INSERT INTO {table} ({columns}) SELECT {values}{gate}"
        f" ON CONFLICT ({key}) DO UPDATE SET {update} WHERE {table}.version < EXCLUDED.version)"
    )
    select = ["(SELECT row_to_json(p) FROM prev p) AS prev"]
    if account:
        not_dry = " AND NOT (SELECT dry_run FROM dry)" if record else ""
        ctes.append(
            "acct AS (SELECT * FROM portal.accounts"
            f" WHERE workspace_id = $3 AND portal = $4 AND user_id = $1{not_dry} FOR UPDATE)"
        )
        select.append("(SELECT row_to_json(a) FROM acct a) AS account")
    if record:
        select += ["EXISTS (SELECT 1 FROM recorded) AS first", "(SELECT dry_run FROM dry) AS dry_run"]
    return "WITH " + ",\n     ".join(ctes) + "\nSELECT " + ", ".join(select)


_USER_COLUMNS = "user_id, connection_id, workspace_id, portal, user_name, active, deleted, state, version"
_USER_VALUES = (
    "$1::uuid, $2::uuid, $3::uuid, $4::text, coalesce($5::text, (SELECT user_name FROM prev), $10::text),"
    " $6::boolean, $7::boolean, $8::jsonb, $9::bigint"
)
_USER_UPDATE = (
    "user_name = EXCLUDED.user_name, active = EXCLUDED.active, deleted = EXCLUDED.deleted,"
    " state = coalesce(EXCLUDED.state, portal.directory_users.state), version = EXCLUDED.version"
)


async def start_user(
    conn: Conn,
    *,
    user_id: str,
    connection_id: str,
    workspace_id: str,
    portal: str,
    user_name: str | None,
    active: bool,
    deleted: bool,
    state: dict[str, Any] | None,
    version: int,
    event_id: str | None = None,
    with_account: bool = False,
) -> Start:
    """`read_user` and `save_user` (only if this version is newer) in one statement (`_start_sql`);
    `user_name` None keeps the stored one (or the id, for a new row)."""
    args: list[Any] = [
        user_id,
        connection_id,
        workspace_id,
        portal,
        user_name,
        active,
        deleted,
        state,
        version,
    ]
    args.append(str(user_id))
    if event_id is not None:
        args.append(event_id)
    sql = _start_sql(
        "portal.directory_users",
        "user_id",
        _USER_COLUMNS,
        _USER_VALUES,
        _USER_UPDATE,
        event="$11" if event_id is not None else "",
        account=with_account,
        save_in_dry_run=False,  # a dry run rehearses from the old state, then saves (`dry_run`)
    )
    return _start(await conn.fetchrow(sql, *args), event_id is not None, with_account)


def _start(row: asyncpg.Record | None, recorded: bool, with_account: bool) -> Start:
    assert row is not None
    return Start(
        first=bool(row["first"]) if recorded else True,
        dry_run=bool(row["dry_run"]) if recorded else False,
        prev=row["prev"],
        account=row["account"] if with_account else None,
        account_read=with_account,
    )


_GROUP_COLUMNS = "group_id, connection_id, workspace_id, portal, display_name, deleted, version"
_GROUP_VALUES = (
    "$1::uuid, $2::uuid, $3::uuid, $4::text, coalesce($5::text, (SELECT display_name FROM prev), $8::text),"
    " $6::boolean, $7::bigint"
)
_GROUP_UPDATE = "display_name = EXCLUDED.display_name, deleted = EXCLUDED.deleted, version = EXCLUDED.version"


async def start_group(
    conn: Conn,
    *,
    group_id: str,
    connection_id: str,
    workspace_id: str,
    portal: str,
    display_name: str | None,
    deleted: bool,
    version: int,
    event_id: str | None = None,
) -> Start:
    """`read_group` and `save_group` (only if this version is newer) in one statement (`_start_sql`);
    `display_name` None keeps the stored one (or the id, for a new row). Groups follow in dry run too."""
    args: list[Any] = [group_id, connection_id, workspace_id, portal, display_name, deleted, version]
    args.append(str(group_id))
    if event_id is not None:
        args.append(event_id)
    sql = _start_sql(
        "portal.groups",
        "group_id",
        _GROUP_COLUMNS,
        _GROUP_VALUES,
        _GROUP_UPDATE,
        event="$9" if event_id is not None else "",
        account=False,
        save_in_dry_run=True,
    )
    return _start(await conn.fetchrow(sql, *args), event_id is not None, False)


async def lock_all(conn: Conn, keys: list[tuple[int, str]]) -> None:
    """Take the advisory locks of a batch's resources in one statement, in one global order, so that
    replicas applying overlapping batches never wait on each other in a cycle."""
    await conn.execute(
        """
        SELECT pg_advisory_xact_lock(s.c, s.h)
          FROM (SELECT DISTINCT l.c, hashtext(l.k) AS h FROM unnest($1::int[], $2::text[]) AS l (c, k)
                 ORDER BY l.c, h) s
        """,
        [c for c, _ in keys],
        [k for _, k in keys],
    )


async def lock_group(conn: Conn, group_id: str) -> asyncpg.Record | None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", GROUP_LOCK, group_id)
    return await read_group(conn, group_id)


async def read_group(conn: Conn, group_id: str) -> asyncpg.Record | None:
    """The group's mirror row; the caller holds its lock (`lock_group`, or `tracking.begin`'s)."""
    return await conn.fetchrow("SELECT * FROM portal.groups WHERE group_id = $1", group_id)


async def save_group(
    conn: Conn,
    *,
    group_id: str,
    connection_id: str,
    workspace_id: str,
    portal: str,
    display_name: str,
    deleted: bool,
    version: int,
) -> None:
    await conn.execute(
        """
        INSERT INTO portal.groups
               (group_id, connection_id, workspace_id, portal, display_name, deleted, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (group_id) DO UPDATE SET display_name = EXCLUDED.display_name, deleted = EXCLUDED.deleted,
               version = EXCLUDED.version
        """,
        group_id,
        connection_id,
        workspace_id,
        portal,
        display_name,
        deleted,
        version,
    )


async def set_membership(
    conn: Conn,
    group_id: str,
    user_ids: list[str],
    is_member: bool,
    version: int,
    at: datetime,
    audited: tuple[audit.Cause, str, str] | None = None,
) -> list[str]:
    """Apply one side of a delta; a pair changes only if this version is newer. Returns the users changed.

    `audited` (cause, action, group name): the same statement also writes one audit entry per user changed,
    as `audit.record_memberships` does."""
    if not user_ids:
        return []
    audit_cte, audit_args = "", []
    if audited is not None:
        cause, action, group_name = audited
        audit_cte = """,
        audited AS (
            INSERT INTO portal.audit (workspace_id, portal, user_id, user_name, group_name, action, result,
                                      reason, event_id, request_id, detail, mode)
            SELECT $6, $7, c.user_id, d.user_name, $8, $9, 'applied', $10, $11, $12, '', $13
              FROM changed c LEFT JOIN portal.directory_users d ON d.user_id = c.user_id
        )"""
        audit_args = [
            cause.workspace_id,
            cause.portal,
            group_name,
            action,
            cause.reason,
            cause.event_id,
            cause.request_id or None,
            cause.mode,
        ]
        await audit.flush(conn)  # entries kept for the end of the batch go first (audit.deferred)
    rows = await conn.fetch(
        f"""
        WITH changed AS (
            INSERT INTO portal.group_members (group_id, user_id, is_member, version, changed_at)
            SELECT $1, u, $3, $4, $5 FROM unnest($2::uuid[]) AS u
            ON CONFLICT (group_id, user_id) DO UPDATE
               SET is_member = EXCLUDED.is_member, version = EXCLUDED.version,
                   changed_at = EXCLUDED.changed_at
             WHERE portal.group_members.version < EXCLUDED.version
            RETURNING user_id
        ){audit_cte}
        SELECT user_id FROM changed
        """,
        group_id,
        user_ids,
        is_member,
        version,
        at,
        *audit_args,
    )
    return [str(r["user_id"]) for r in rows]


async def clear_group(conn: Conn, group_id: str, version: int, at: datetime) -> list[str]:
    rows = await conn.fetch(
        "UPDATE portal.group_members SET is_member = false, version = $2, changed_at = $3 "
        "WHERE group_id = $1 AND is_member AND version < $2 RETURNING user_id",
        group_id,
        version,
        at,
    )
    return [str(r["user_id"]) for r in rows]


async def member_ids(conn: Conn, group_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT user_id FROM portal.group_members WHERE group_id = $1 AND is_member", group_id
    )
    return [str(r["user_id"]) for r in rows]


async def clear_user(conn: Conn, user_id: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE portal.group_members SET is_member = false, changed_at = $2 WHERE user_id = $1 AND is_member",
        user_id,
        at,
    )


async def group_names_of(conn: Conn, user_id: str, changed_until: datetime | None = None) -> list[str]:
    """The groups a user is in; with `changed_until`, only memberships last changed by then."""
    rows = await conn.fetch(
        """
        SELECT g.display_name FROM portal.group_members m JOIN portal.groups g ON g.group_id = m.group_id
         WHERE m.user_id = $1 AND m.is_member AND NOT g.deleted
           AND ($2::timestamptz IS NULL OR m.changed_at <= $2)
         ORDER BY g.display_name
        """,
        user_id,
        changed_until,
    )
    return [r["display_name"] for r in rows]


async def portal_groups(conn: Conn, workspace_id: str, portal: str, member: str) -> list[PortalGroup]:
    """A portal's live groups with their members' userNames; with `member`, only the groups they are in."""
    rows = await conn.fetch(
        """
        SELECT g.group_id, g.display_name,
               coalesce(array_agg(u.user_name ORDER BY u.user_name) FILTER (WHERE u.user_name IS NOT NULL),
                        '{}') AS members
          FROM portal.groups g
          LEFT JOIN portal.group_members m ON m.group_id = g.group_id AND m.is_member
          LEFT JOIN portal.directory_users u ON u.user_id = m.user_id
         WHERE g.workspace_id = $1 AND g.portal = $2 AND NOT g.deleted
         GROUP BY g.group_id, g.display_name
        HAVING $3 = '' OR bool_or(lower(u.user_name) = lower($3))
         ORDER BY g.display_name
        """,
        workspace_id,
        portal,
        member,
    )
    return [PortalGroup(str(r["group_id"]), r["display_name"], tuple(r["members"])) for r in rows]


async def user_name_of(conn: Conn, user_id: str) -> str | None:
    name: str | None = await conn.fetchval(
        "SELECT user_name FROM portal.directory_users WHERE user_id = $1", user_id
    )
    return name
