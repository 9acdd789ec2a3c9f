"""Concurrent writers on the same resources: membership changes are set operations that never lose one
another, `If-Match` lets exactly one of several racing writers win, and a contention storm over shared
groups and users ends with no deadlock, no lock timeout (the directory sets lock_timeout = 5 s) and no 5xx.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from tests.reliability.harness import record_figures
from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack

PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
FIGURES: dict[str, float | int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if FIGURES:
        record_figures("concurrency", FIGURES)


def _patch(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": list(ops)}


async def _users(scim: ScimClient, prefix: str, n: int) -> list[str]:
    async def one(i: int) -> str:
        resp = await scim.post("/Users", {"userName": f"{prefix}-{i}@conc.test", "active": True})
        assert resp.status == 201, resp
        return str(resp.json["id"])

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def _deadlocks(conn: asyncpg.Connection) -> int:
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(
        await conn.fetchval("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
    )


async def test_fifty_concurrent_membership_patches_end_in_the_expected_set(
    scim: ScimClient, stack: Stack, admin: Admin, store_tenant: Tenant, unique: str
) -> None:
    users = await _users(scim, f"m{unique}", 60)
    keep, drop, add = users[:5], users[5:10], users[10:60]
    group = await scim.post(
        "/Groups", {"displayName": f"conc-{unique}", "members": [{"value": u} for u in keep + drop]}
    )
    assert group.status == 201, group
    gid = group.json["id"]

    # 50 Okta-style pushes at once, each adding one user; five of them also remove one of the `drop` users.
    async def push(i: int) -> int:
        ops: list[dict[str, Any]] = [{"op": "add", "path": "members", "value": [{"value": add[i]}]}]
        if i < len(drop):
            ops.insert(0, {"op": "remove", "path": f'members[value eq "{drop[i]}"]'})
        return (await scim.patch(f"/Groups/{gid}", _patch(*ops))).status

    started = time.monotonic()
    statuses = Counter(await asyncio.gather(*(push(i) for i in range(50))))
    elapsed = time.monotonic() - started
    assert statuses == {200: 50}, statuses

    expected = set(keep) | set(add)
    final = await scim.get(f"/Groups/{gid}")
    assert {m["value"] for m in final.json["members"]} == expected
    conn = await asyncpg.connect(stack.database_url)
    try:
        stored = {
            str(r["user_id"])
            for r in await conn.fetch(
                "SELECT user_id FROM directory.memberships WHERE group_id = $1::uuid", gid
            )
        }
        assert stored == expected
        # Every push was one committed change: the version counts them all (created = 1).
        assert final.json["meta"]["version"] == 'W/"51"'

        async def portal_mirrors() -> None:
            mirrored = {
                str(r["user_id"])
                for r in await conn.fetch(
                    "SELECT user_id FROM portal.group_members WHERE group_id = $1::uuid AND is_member", gid
                )
            }
            assert mirrored == expected

        await assert_eventually(portal_mirrors, timeout=30)
    finally:
        await conn.close()
    FIGURES["membership_patches"] = 50
    FIGURES["membership_patches_seconds"] = round(elapsed, 2)


async def test_concurrent_puts_with_if_match_one_wins_the_rest_get_412(scim: ScimClient, unique: str) -> None:
    created = await scim.post("/Users", {"userName": f"ifm-{unique}@conc.test", "title": "start"})
    uid, etag = created.json["id"], created.headers["ETag"]
    body = {k: v for k, v in created.json.items() if k != "meta"}

    async def put(i: int) -> tuple[int, str, Any]:
        resp = await scim.put(f"/Users/{uid}", {**body, "title": f"writer-{i}"}, headers={"If-Match": etag})
        return resp.status, f"writer-{i}", resp.json

    results = await asyncio.gather(*(put(i) for i in range(20)))
    statuses = Counter(s for s, _, _ in results)
    assert statuses == {200: 1, 412: 19}, statuses
    for status, _, error in results:
        if status == 412:
            assert (
                error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
                and error["status"] == "412"
            )
    winner = next(title for status, title, _ in results if status == 200)
    now = await scim.get(f"/Users/{uid}")
    assert now.json["title"] == winner and now.headers["ETag"] == 'W/"2"'

    group = await scim.post("/Groups", {"displayName": f"ifm-{unique}"})
    gid, getag = group.json["id"], group.headers["ETag"]

    async def rename(i: int) -> int:
        op = {"op": "replace", "path": "displayName", "value": f"ifm-{unique}-{i}"}
        return (await scim.patch(f"/Groups/{gid}", _patch(op), headers={"If-Match": getag})).status

    assert Counter(await asyncio.gather(*(rename(i) for i in range(20)))) == {200: 1, 412: 19}
    FIGURES["if_match_racers"] = 40


async def test_contention_storm_has_no_deadlock_no_lock_timeout_no_5xx(
    scim: ScimClient, stack: Stack, unique: str
) -> None:
    """Writers touch overlapping groups and users in clashing orders: full-group PUTs with shuffled
    member lists, PATCH adds and removes, user updates and deactivations (which lock user rows that
    membership inserts reference), all at once."""
    users = await _users(scim, f"s{unique}", 30)
    names = {}
    for g in range(6):
        resp = await scim.post("/Groups", {"displayName": f"storm-{unique}-{g}"})
        names[resp.json["id"]] = resp.json["displayName"]
    groups = list(names)
    rng = random.Random(unique)
    ops: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(300):
        kind = i % 5
        gid, uid = rng.choice(groups), rng.choice(users)
        if kind == 0:
            members = rng.sample(users, 12)
            ops.append(
                (
                    "PUT",
                    f"/Groups/{gid}",
                    {"displayName": names[gid], "members": [{"value": m} for m in members]},
                )
            )
        elif kind == 1:
            ops.append(
                (
                    "PATCH",
                    f"/Groups/{gid}",
                    _patch(
                        {
                            "op": "add",
                            "path": "members",
                            "value": [{"value": m} for m in rng.sample(users, 5)],
                        }
                    ),
                )
            )
        elif kind == 2:
            ops.append(
                ("PATCH", f"/Groups/{gid}", _patch({"op": "remove", "path": f'members[value eq "{uid}"]'}))
            )
        elif kind == 3:
            ops.append(
                ("PATCH", f"/Users/{uid}", _patch({"op": "replace", "value": {"active": rng.random() < 0.5}}))
            )
        else:
            ops.append(
                ("PATCH", f"/Users/{uid}", _patch({"op": "replace", "path": "title", "value": f"t{i}"}))
            )
    latencies: list[float] = []
    limit = asyncio.Semaphore(30)

    async def run(method: str, path: str, body: dict[str, Any]) -> int:
        async with limit:
            started = time.monotonic()
            resp = await scim.request(method, path, body)
            latencies.append(time.monotonic() - started)
        return resp.status

    conn = await asyncpg.connect(stack.database_url)
    try:
        before = await _deadlocks(conn)
        started = time.monotonic()
        statuses = Counter(await asyncio.gather(*(run(*op) for op in ops)))
        elapsed = time.monotonic() - started
        deadlocks = await _deadlocks(conn) - before

        async def portal_mirrors() -> None:
            for gid in groups:
                want = {
                    str(r["user_id"])
                    for r in await conn.fetch(
                        "SELECT user_id FROM directory.memberships WHERE group_id = $1::uuid", gid
                    )
                }
                got = {
                    str(r["user_id"])
                    for r in await conn.fetch(
                        "SELECT user_id FROM portal.group_members WHERE group_id = $1::uuid AND is_member",
                        gid,
                    )
                }
                assert got == want, gid

        await assert_eventually(portal_mirrors, timeout=30)
    finally:
        await conn.close()
    latencies.sort()
    FIGURES.update(
        storm_requests=len(ops),
        storm_seconds=round(elapsed, 2),
        storm_deadlocks=deadlocks,
        storm_lock_timeouts=statuses.get(503, 0),
        storm_p99_ms=round(latencies[int(len(latencies) * 0.99)] * 1000),
        storm_max_ms=round(latencies[-1] * 1000),
    )
    assert statuses == {200: len(ops)}, statuses
    assert deadlocks == 0


async def test_a_lock_held_too_long_times_out_as_503_instead_of_waiting(
    scim: ScimClient, stack: Stack, unique: str
) -> None:
    """The lock timeout is really in force: a writer queued behind a lock held for longer than 5 s is
    answered 503 + Retry-After after about 5 s (clients retry), rather than hanging."""
    group = await scim.post("/Groups", {"displayName": f"held-{unique}"})
    gid = group.json["id"]
    conn = await asyncpg.connect(stack.database_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM directory.groups WHERE id = $1::uuid FOR UPDATE", gid)
            started = time.monotonic()
            resp = await scim.patch(
                f"/Groups/{gid}",
                _patch({"op": "replace", "path": "displayName", "value": f"held-{unique}-x"}),
            )
            waited = time.monotonic() - started
    finally:
        await conn.close()
    FIGURES["lock_timeout_answered_after_s"] = round(waited, 2)
    assert resp.status == 503 and resp.headers["Retry-After"].isdigit(), resp
    assert 4.5 < waited < 8, waited
    after = await scim.patch(
        f"/Groups/{gid}", _patch({"op": "replace", "path": "displayName", "value": f"held-{unique}-y"})
    )
    assert after.status == 200, after
