"""Checking a run against its model by reading the databases and the stream directly, not through the API.

`lost` counts acknowledged effects that are missing; `doubled` counts effects present more often than the
acknowledged operations allow. A correct run has both at zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import nats

from tests.reliability.load import Model


@dataclass
class Verdict:
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def assert_clean(self) -> None:
        summary = f"lost={len(self.lost)} doubled={len(self.doubled)}"
        assert not self.lost and not self.doubled, (
            f"{summary}\nlost: {self.lost[:20]}\ndoubled: {self.doubled[:20]}"
        )


async def directory_matches(conn: asyncpg.Connection, connection_id: str, model: Model) -> Verdict:
    """The directory holds exactly the acknowledged state: no missing, extra or stale user, group, member."""
    v = Verdict()
    rows = await conn.fetch(
        "SELECT id::text, user_name, active, display_name, doc->>'title' AS title, version "
        "FROM directory.users WHERE connection_id = $1::uuid",
        connection_id,
    )
    by_id = {r["id"]: r for r in rows}
    names = Counter(r["user_name"].lower() for r in rows)
    v.doubled += [f"user {n} stored {c} times" for n, c in names.items() if c > 1]
    v.doubled += [f"user {r['user_name']} not acknowledged" for r in rows if r["id"] not in model.users]
    for uid, u in model.users.items():
        row = by_id.get(uid)
        if row is None:
            v.lost.append(f"user {u.user_name} missing")
            continue
        got = (row["active"], row["display_name"], row["title"] or "")
        want = (u.active, u.display_name, u.title)
        if got != want:
            v.lost.append(f"user {u.user_name}: stored {got}, acknowledged {want}")
    groups = {
        r["id"]: r
        for r in await conn.fetch(
            "SELECT id::text, display_name, version FROM directory.groups WHERE connection_id = $1::uuid",
            connection_id,
        )
    }
    members: dict[str, set[str]] = {}
    for r in await conn.fetch(
        "SELECT group_id::text, user_id::text FROM directory.memberships WHERE connection_id = $1::uuid",
        connection_id,
    ):
        members.setdefault(r["group_id"], set()).add(r["user_id"])
    for gid, g in model.groups.items():
        row = groups.get(gid)
        if g.deleted:
            if row is not None:
                v.lost.append(f"deleted group {g.display_name} still present")
            continue
        if row is None:
            v.lost.append(f"group {g.display_name} missing")
            continue
        if row["display_name"] != g.display_name:
            v.lost.append(f"group {gid}: name {row['display_name']!r}, acknowledged {g.display_name!r}")
        stored = members.get(gid, set())
        v.lost += [f"group {g.display_name}: member {m} missing" for m in g.members - stored]
        v.doubled += [f"group {g.display_name}: member {m} not acknowledged" for m in stored - g.members]
    v.doubled += [
        f"group {r['display_name']} not acknowledged" for gid, r in groups.items() if gid not in model.groups
    ]
    v.figures.update(users=len(rows), groups=len(groups), memberships=sum(len(s) for s in members.values()))
    return v


async def expected_events(conn: asyncpg.Connection, model: Model) -> int:
    """Every committed change emits one event and bumps the row version by one, so a resource's event count
    is its last row version (a deletion's event carries the version after the last update).

    A User's ETag also follows its groups (README "ETags that follow the representation"), so it is not an
    event count: users' row versions are read from the directory, whose state `directory_matches` has
    already checked against the acknowledged one. Groups' ETags are their row versions.
    """
    user_versions = await conn.fetchval(
        "SELECT coalesce(sum(version), 0) FROM directory.users WHERE id = ANY($1::uuid[])", list(model.users)
    )
    return int(user_versions) + sum(g.version for g in model.groups.values())


async def portal_applied_once(conn: asyncpg.Connection, workspace_id: str, model: Model) -> Verdict:
    """Every portal action happened exactly as often as the acknowledged transitions demand."""
    v = Verdict()
    rows = await conn.fetch(
        "SELECT user_id::text, action, event_id::text, group_name FROM portal.audit "
        "WHERE workspace_id = $1::uuid",
        workspace_id,
    )
    # The same event applied twice would repeat its (event, user, group, action) entry.
    repeated = Counter((r["event_id"], r["user_id"], r["group_name"], r["action"]) for r in rows)
    v.doubled += [f"audit entry {k} written {n}x" for k, n in repeated.items() if n > 1]
    audit = Counter((r["user_id"], r["action"]) for r in rows)
    expected: Counter[tuple[str | None, str]] = Counter()
    for uid, u in model.users.items():
        expected.update(
            {
                (uid, "create-employee"): u.activations,
                (uid, "remove"): u.deactivations,
                (uid, "add-to-group"): u.joins,
                (uid, "remove-from-group"): u.leaves,
            }
        )
    groups = model.groups.values()
    expected.update(
        {
            (None, "group-create"): len(model.groups),
            (None, "group-delete"): sum(g.deleted for g in groups),
            (None, "group-rename"): sum(g.renames for g in groups),
        }
    )
    for key in sorted(set(expected) | set(audit), key=str):
        got, want = audit.get(key, 0), expected.get(key, 0)
        name = model.users[key[0]].user_name if key[0] in model.users else key[0]
        if got < want:
            v.lost.append(f"{name}: {key[1]} applied {got}x, acknowledged {want}x")
        elif got > want:
            v.doubled.append(f"{name}: {key[1]} applied {got}x, acknowledged {want}x")
    accounts = {
        r["user_id"]: r["status"]
        for r in await conn.fetch(
            "SELECT user_id::text, status FROM portal.accounts WHERE workspace_id = $1::uuid", workspace_id
        )
    }
    for uid, u in model.users.items():
        want_status = "active" if u.active else "removed"
        if accounts.get(uid) != want_status:
            v.lost.append(f"{u.user_name}: account {accounts.get(uid)}, acknowledged {want_status}")
    mirrored: dict[str, set[str]] = {}
    for r in await conn.fetch(
        "SELECT m.group_id::text, m.user_id::text FROM portal.group_members m "
        "JOIN portal.groups g USING (group_id) WHERE g.workspace_id = $1::uuid AND m.is_member",
        workspace_id,
    ):
        mirrored.setdefault(r["group_id"], set()).add(r["user_id"])
    for gid, g in model.groups.items():
        acked = set() if g.deleted else g.members
        held = mirrored.get(gid, set())
        v.lost += [f"portal group {g.display_name}: member {m} missing" for m in acked - held]
        v.doubled += [f"portal group {g.display_name}: member {m} not acknowledged" for m in held - acked]
    processed = await conn.fetchval("SELECT count(*) FROM portal.processed_events")
    events = await expected_events(conn, model)
    if processed < events:
        v.lost.append(f"{events - processed} event(s) never applied ({processed}/{events})")
    elif processed > events:
        v.doubled.append(f"{processed - events} event(s) applied that no acknowledged write explains")
    dead = await conn.fetchval("SELECT count(*) FROM portal.dead_letters")
    if dead:
        v.lost.append(f"{dead} event(s) dead-lettered")
    v.figures.update(
        events=events,
        processed_events=processed,
        audit_rows=sum(audit.values()),
        creates=sum(u.activations for u in model.users.values()),
        removals=sum(u.deactivations for u in model.users.values()),
        dead_letters=dead,
    )
    return v


async def outbox_pending(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM directory.outbox"))


async def stream_messages(nats_url: str, stream: str) -> int:
    """Messages in the events stream: JetStream's de-duplication by event id should leave exactly one each."""
    nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        info = await nc.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await nc.close()
