"""The benchmark dataset: N users and groups of 10, 1k, 10k and 100k members, identical on both servers.

Ids are uuid5 of the resource's unique name, so the load generator can address any user or group on either
server without asking it first. On our side the rows are written with COPY in the shape the directory
itself writes (documents go through the same `normalize_resource` as a POST); on scim2-server they go
through its storage API in-process (see `bench/peer_app.py`). Loading 100k users through either HTTP API
would take minutes and measure nothing we report.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from scim_core.normalize import normalize_resource
from scim_core.schema import GROUP_RESOURCE, GROUP_URN, USER_RESOURCE, USER_URN

NAMESPACE = uuid.UUID("6f1c1f9e-5a4e-4d0c-9a53-3d1b2c9f0b17")
GROUP_SIZES = (10, 1_000, 10_000, 100_000)

_GIVEN = ("Ada", "Grace", "Alan", "Barbara", "Edsger", "Frances", "Donald", "Margaret", "Ken", "Radia")
_FAMILY = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Dijkstra",
    "Allen",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Perlman",
)


def user_name(i: int) -> str:
    # The zero-padded index followed by "@" is a substring of exactly one userName: `co` filters use it.
    return f"user{i:06d}@bench.example"


def user_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"User:{name.lower()}"))


def group_name(size: int) -> str:
    return f"bench-group-{size}"


def group_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"Group:{name.lower()}"))


def user_body(name: str, i: int, *, password: bool = False) -> dict[str, Any]:
    """The body Okta sends on POST /Users (idp-clients §1.11, step 6), with stable per-index values."""
    given, family = _GIVEN[i % len(_GIVEN)], _FAMILY[(i // len(_GIVEN)) % len(_FAMILY)]
    body: dict[str, Any] = {
        "schemas": [USER_URN],
        "userName": name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": name, "type": "work"}],
        "displayName": f"{given} {family}",
        "externalId": f"ext-{i:06d}",
        "active": True,
    }
    if password:
        body["password"] = "1mz050nq"
    return body


@dataclass(frozen=True)
class Dataset:
    users: int
    group_sizes: tuple[int, ...]

    @classmethod
    def of(cls, users: int) -> Dataset:
        # A group cannot have more members than there are users; the largest group is capped at `users`
        # so a small smoke run still has a "whole directory" group.
        sizes = (*(s for s in GROUP_SIZES if s < users), min(users, GROUP_SIZES[-1]))
        return cls(users, tuple(sorted(set(sizes))))


async def load_ours(dsn: str, connection_id: str, workspace_id: str, portal: str, ds: Dataset) -> float:
    """COPY the dataset into our tables for one connection; returns the seconds it took.

    Both sides of the event flow are written: the directory's rows, and what portal-actions would hold
    after applying each Created event (its mirror of users and groups at version 1, and the Store
    employee accounts). Without the mirror, the first event of a loaded user (version 2) would wait for a
    predecessor that never comes (portal-actions' ordering guard), and the benchmark would measure that.
    """
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        cid, wid = uuid.UUID(connection_id), uuid.UUID(workspace_id)
        batch: list[tuple[Any, ...]] = []
        mirror: list[tuple[Any, ...]] = []
        accounts: list[tuple[Any, ...]] = []

        async def flush() -> None:
            await conn.copy_records_to_table(
                "users",
                schema_name="directory",
                columns=["id", "connection_id", "user_name", "external_id", "display_name", "active", "doc"],
                records=batch,
            )
            await conn.copy_records_to_table(
                "directory_users",
                schema_name="portal",
                columns=[
                    "user_id",
                    "connection_id",
                    "workspace_id",
                    "portal",
                    "user_name",
                    "active",
                    "deleted",
                    "state",
                    "version",
                ],
                records=mirror,
            )
            await conn.copy_records_to_table(
                "accounts",
                schema_name="portal",
                columns=["workspace_id", "portal", "user_id", "user_name", "status", "provisioned_at"],
                records=accounts,
            )
            batch.clear()
            mirror.clear()
            accounts.clear()

        now = datetime.now(UTC)
        for i in range(ds.users):
            name = user_name(i)
            uid = uuid.UUID(user_id(name))
            doc = normalize_resource(user_body(name, i), USER_RESOURCE)
            text = json.dumps(doc)
            batch.append(
                (uid, cid, doc["userName"], doc.get("externalId"), doc.get("displayName"), True, text)
            )
            mirror.append((uid, cid, wid, portal, name, True, False, json.dumps({"id": str(uid), **doc}), 1))
            accounts.append((wid, portal, uid, name, "active", now))
            if len(batch) >= 10_000:
                await flush()
        if batch:
            await flush()
        for size in ds.group_sizes:
            name = group_name(size)
            gid = uuid.UUID(group_id(name))
            doc = normalize_resource({"schemas": [GROUP_URN], "displayName": name}, GROUP_RESOURCE)
            await conn.copy_records_to_table(
                "groups",
                schema_name="directory",
                columns=["id", "connection_id", "display_name", "doc"],
                records=[(gid, cid, name, json.dumps(doc))],
            )
            members = [uuid.UUID(user_id(user_name(i))) for i in range(size)]
            await conn.copy_records_to_table(
                "memberships",
                schema_name="directory",
                columns=["group_id", "user_id", "connection_id"],
                records=[(gid, uid, cid) for uid in members],
            )
            await conn.copy_records_to_table(
                "groups",
                schema_name="portal",
                columns=[
                    "group_id",
                    "connection_id",
                    "workspace_id",
                    "portal",
                    "display_name",
                    "deleted",
                    "version",
                ],
                records=[(gid, cid, wid, portal, name, False, 1)],
            )
            await conn.copy_records_to_table(
                "group_members",
                schema_name="portal",
                columns=["group_id", "user_id", "is_member", "version"],
                records=[(gid, uid, True, 1) for uid in members],
            )
        # Fresh statistics, as autovacuum would have them on a directory that grew to this size over time.
        await conn.execute(
            "ANALYZE directory.users; ANALYZE directory.groups; ANALYZE directory.memberships; "
            "ANALYZE portal.directory_users; ANALYZE portal.accounts; ANALYZE portal.group_members"
        )
    finally:
        await conn.close()
    return time.perf_counter() - started
