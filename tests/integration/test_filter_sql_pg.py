"""Compiled filters and sort keys run against a real PostgreSQL with the suite's migrations applied.

The rows live in a database of this module's own on the session's server (the `servers` fixture), so
that the whole-table count below sees nothing another test wrote.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from directory.adapters.postgres.filter_sql import SqlParams, compile_filter, compile_sort
from scim_core.filter import parse_filter
from scim_core.schema import (
    ENTERPRISE_USER_URN,
    GROUP_RESOURCE,
    USER_RESOURCE,
    Schema,
    resource_with_extensions,
)

from tests.support.servers import Servers
from tests.support.stack import migrated_database

ACME_URN = "urn:acme:params:scim:schemas:extension:Acme:2.0:User"
ACME = Schema.from_schema_json(
    {
        "id": ACME_URN,
        "attributes": [
            {"name": "badgeCode"},
            {"name": "clearance", "type": "integer"},
            {"name": "hiredOn", "type": "dateTime"},
            {"name": "tags", "multiValued": True},
        ],
    }
)
USERS = resource_with_extensions(USER_RESOURCE, (ACME,))


def _email(value: str, kind: str, primary: bool | None = None) -> dict[str, Any]:
    email: dict[str, Any] = {"value": value, "type": kind}
    if primary is not None:
        email["primary"] = primary
    return email


# key: (userName, externalId, displayName, active, created_at, doc)
USER_ROWS: dict[str, tuple[str, str | None, str | None, bool, datetime, dict[str, Any]]] = {
    "alice": (
        "Alice@Example.com",
        "ext-ALICE",
        "Alice Smith",
        True,
        datetime(2020, 1, 1, tzinfo=UTC),
        {
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "title": "Engineer",
            "emails": [
                _email("alice@example.com", "work", primary=True),
                _email("alice@home.org", "home"),
            ],
            ENTERPRISE_USER_URN: {"department": "Engineering", "employeeNumber": "1001"},
            ACME_URN: {
                "badgeCode": "A-1",
                "clearance": 5,
                "hiredOn": "2019-06-01T09:00:00Z",
                "tags": ["blue", "green"],
            },
        },
    ),
    "bob": (
        "bob@example.com",
        "ext-bob",
        "Bob Jones",
        False,
        datetime(2016, 1, 1, tzinfo=UTC),
        {
            "name": {"givenName": "Bob", "familyName": "Jones"},
            "title": "",
            "emails": [
                _email("bob@home.org", "home", primary=True),
                _email("bob.work@example.net", "work", primary=False),
            ],
            ENTERPRISE_USER_URN: {"department": "Sales"},
            ACME_URN: {"clearance": 2, "tags": []},
        },
    ),
    "carol": (
        "carol_100%@example.com",
        None,
        None,
        True,
        datetime(2024, 5, 5, tzinfo=UTC),
        {
            "name": {"familyName": "O'Brien"},
            ENTERPRISE_USER_URN: {"department": "engineering"},
            ACME_URN: {"clearance": "high"},
        },
    ),
    "dave": (
        "dave@example.com",
        "ext-dave",
        "Dave",
        True,
        datetime(2014, 1, 1, tzinfo=UTC),
        {
            "emails": [_email("DAVE@EXAMPLE.COM", "Work")],
            ACME_URN: {"hiredOn": "not a date"},
        },
    ),
}
GROUP_MEMBERS = {"Engineering": ("alice", "carol"), "Sales": ("bob",), "Empty Group": ()}


@dataclass
class Db:
    conn: asyncpg.Connection
    connection_id: uuid.UUID
    users: dict[str, uuid.UUID]
    groups: dict[str, uuid.UUID]


async def _seed(conn: asyncpg.Connection) -> Db:
    workspace, connection, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO directory.workspaces (id, name) VALUES ($1, 'Acme')", workspace)
    await conn.execute(
        "INSERT INTO directory.connections (id, workspace_id, portal)"
        " VALUES ($1, $3, 'dashboard'), ($2, $3, 'store')",
        connection,
        other,
        workspace,
    )
    users: dict[str, uuid.UUID] = {}
    insert_user = """
        INSERT INTO directory.users (id, connection_id, user_name, external_id, display_name, active,
                                     doc, created_at, last_modified)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $8)
    """
    for key, (user_name, external_id, display_name, active, created, doc) in USER_ROWS.items():
        users[key] = uuid.uuid4()
        full = {"userName": user_name, **doc}
        await conn.execute(
            insert_user,
            users[key],
            connection,
            user_name,
            external_id,
            display_name,
            active,
            json.dumps(full),
            created,
        )
    # The same userName in another connection must never leak into results.
    await conn.execute(
        insert_user,
        uuid.uuid4(),
        other,
        "alice@example.com",
        "ext-ALICE",
        None,
        True,
        "{}",
        datetime.now(UTC),
    )
    groups: dict[str, uuid.UUID] = {}
    for name, members in GROUP_MEMBERS.items():
        groups[name] = uuid.uuid4()
        await conn.execute(
            "INSERT INTO directory.groups (id, connection_id, display_name, doc)"
            " VALUES ($1, $2, $3, $4::jsonb)",
            groups[name],
            connection,
            name,
            json.dumps({"displayName": name}),
        )
        for member in members:
            await conn.execute(
                "INSERT INTO directory.memberships (group_id, user_id, connection_id) VALUES ($1, $2, $3)",
                groups[name],
                users[member],
                connection,
            )
    return Db(conn, connection, users, groups)


@pytest_asyncio.fixture(scope="module")
async def db(servers: Servers) -> AsyncIterator[Db]:
    async with migrated_database(servers, "filter_sql") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            yield await _seed(conn)
        finally:
            await conn.close()


async def user_keys(db: Db, text: str) -> set[str]:
    params = SqlParams(start=2)
    where = compile_filter(parse_filter(text), USERS, "u", params)
    rows = await db.conn.fetch(
        f"SELECT u.id FROM directory.users u WHERE u.connection_id = $1 AND ({where})",
        db.connection_id,
        *params.values,
    )
    by_id = {v: k for k, v in db.users.items()}
    return {by_id[r["id"]] for r in rows}


async def group_keys(db: Db, text: str) -> set[str]:
    params = SqlParams(start=2)
    where = compile_filter(parse_filter(text), GROUP_RESOURCE, "g", params)
    rows = await db.conn.fetch(
        f"SELECT g.display_name FROM directory.groups g WHERE g.connection_id = $1 AND ({where})",
        db.connection_id,
        *params.values,
    )
    return {r["display_name"] for r in rows}


ALL = {"alice", "bob", "carol", "dave"}
DEPARTMENT = f"{ENTERPRISE_USER_URN}:department"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "alice@example.com"', {"alice"}),
        ('USERNAME EQ "ALICE@EXAMPLE.COM"', {"alice"}),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "Bob@Example.com"', {"bob"}),
        ('userName sw "Bo"', {"bob"}),
        ('userName co "EXAMPLE.COM"', ALL),
        ('userName ew "E.com"', ALL),
        ('userName gt "c"', {"carol", "dave"}),
        ("title pr", {"alice"}),
        ("not (title pr)", {"bob", "carol", "dave"}),
        ('title eq "engineer"', {"alice"}),
        ('title ne "Engineer"', {"bob", "carol", "dave"}),
        ("title eq null", {"bob", "carol", "dave"}),
        ('not (title eq "Engineer")', {"bob", "carol", "dave"}),
        ('userName sw "a" or userName sw "b" and active eq true', {"alice"}),
        ('(userName sw "a" or userName sw "b") and active eq false', {"bob"}),
        ('not (userName sw "a" or userName sw "b") and displayName pr', {"dave"}),
        ('emails[type eq "work"].value eq "alice@example.com"', {"alice"}),
        ('emails[type eq "work"].value eq "alice@home.org"', set()),
        ('emails[type eq "work"].value eq "bob.work@example.net"', {"bob"}),
        ('emails[type eq "work"].value eq "dave@example.com"', {"dave"}),
        ('emails co "example.net"', {"bob"}),
        ("emails.Value co @HOME.org", {"alice", "bob"}),
        ('emails eq "alice@example.com"', {"alice"}),
        ('emails.value ne "alice@example.com"', {"bob", "carol", "dave"}),
        ('emails[type eq "work" and primary eq true]', {"alice"}),
        ('emails[type eq "work" and not (primary eq true)]', {"bob", "dave"}),
        ('emails[type eq "work" and primary eq "True"]', {"alice"}),
        ("emails pr", {"alice", "bob", "dave"}),
        (f'{DEPARTMENT} eq "engineering"', {"alice", "carol"}),
        ('department sw "Sal"', {"bob"}),
        ("meta.created gt 2015-10-10T14:38:21.8617979-07:00", {"alice", "bob", "carol"}),
        ('meta.created lt "2015-01-01T00:00:00Z"', {"dave"}),
        ('meta.lastModified ge "2024-05-05T00:00:00+00:00"', {"carol"}),
        ('externalId eq "ext-ALICE"', {"alice"}),
        ('externalId eq "ext-alice"', set()),
        ("externalId eq ext-bob", {"bob"}),
        ("externalId pr", {"alice", "bob", "dave"}),
        ("active eq false", {"bob"}),
        ('active eq "False"', {"bob"}),
        ('name.familyName eq "o\'brien"', {"carol"}),
        ("name.FamilyName eq Smith", {"alice"}),
        ("name pr", {"alice", "bob", "carol"}),
        (f"{ACME_URN}:clearance gt 3", {"alice"}),
        ("clearance le 2", {"bob"}),
        ('hiredOn gt "2019-01-01"', {"alice"}),
        ('tags eq "green"', {"alice"}),
        ("tags pr", {"alice"}),
        ('badgeCode eq "a-1"', {"alice"}),
        # Injection attempts are plain values: they match what they literally say, nothing more.
        ('userName eq "x\' OR 1=1 --"', set()),
        ('userName eq "x\'); DROP TABLE directory.users; --"', set()),
        ('userName co "%"', {"carol"}),
        ('userName co "_"', {"carol"}),
        ('userName sw "%"', set()),
        ('userName co "\\\\"', set()),
    ],
)
async def test_user_filters(db: Db, text: str, expected: set[str]) -> None:
    assert await user_keys(db, text) == expected


async def test_id_filters(db: Db) -> None:
    alice = db.users["alice"]
    assert await user_keys(db, f'id eq "{alice}"') == {"alice"}
    assert await user_keys(db, f'id eq "{str(alice).upper()}"') == {"alice"}
    assert await user_keys(db, f'id ne "{alice}"') == ALL - {"alice"}
    assert await user_keys(db, 'id eq "not-a-uuid"') == set()


async def test_user_groups_come_from_membership_rows(db: Db) -> None:
    assert await user_keys(db, f'groups.value eq "{db.groups["Engineering"]}"') == {"alice", "carol"}
    assert await user_keys(db, "groups pr") == {"alice", "bob", "carol"}


async def test_group_filters(db: Db) -> None:
    alice, bob, carol = db.users["alice"], db.users["bob"], db.users["carol"]
    assert await group_keys(db, 'displayName eq "engineering"') == {"Engineering"}
    assert await group_keys(db, 'displayName sw "S"') == {"Sales"}
    assert await group_keys(db, f'members.value eq "{alice}"') == {"Engineering"}
    assert await group_keys(db, f'members eq "{bob}"') == {"Sales"}
    assert await group_keys(db, f'members[value eq "{carol}"]') == {"Engineering"}
    assert await group_keys(db, f'members.value eq "{str(carol).upper()}"') == {"Engineering"}
    assert await group_keys(db, 'members.value eq "not-a-uuid"') == set()
    assert await group_keys(db, "members pr") == {"Engineering", "Sales"}
    assert await group_keys(db, "not (members pr)") == {"Empty Group"}
    assert await group_keys(db, f'members.value ne "{alice}"') == {"Sales", "Empty Group"}
    assert await group_keys(db, 'displayName eq "x\' OR 1=1 --"') == set()


async def test_the_users_table_survived_the_injection_attempts(db: Db) -> None:
    count = await db.conn.fetchval("SELECT count(*) FROM directory.users")
    assert count == len(USER_ROWS) + 1


async def sorted_keys(db: Db, sort_by: str) -> list[str]:
    params = SqlParams(start=2)
    order = compile_sort(sort_by, USERS, "u", params)
    rows = await db.conn.fetch(
        f"SELECT u.id FROM directory.users u WHERE u.connection_id = $1"
        f" ORDER BY {order} ASC NULLS LAST, u.seq",
        db.connection_id,
        *params.values,
    )
    by_id = {v: k for k, v in db.users.items()}
    return [by_id[r["id"]] for r in rows]


async def test_sort_keys(db: Db) -> None:
    assert await sorted_keys(db, "userName") == ["alice", "bob", "carol", "dave"]
    assert await sorted_keys(db, "meta.created") == ["dave", "bob", "alice", "carol"]
    # Multi-valued: the primary value sorts (bob's primary is his home address), else the first.
    assert await sorted_keys(db, "emails") == ["alice", "bob", "dave", "carol"]
    assert await sorted_keys(db, "name.familyName") == ["bob", "carol", "alice", "dave"]
    assert await sorted_keys(db, "clearance") == ["bob", "alice", "carol", "dave"]
