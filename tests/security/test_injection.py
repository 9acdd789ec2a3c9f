"""Injection attempts in `filter`, `sortBy`, `attributes`, resource paths and PATCH paths are harmless:
never a 5xx, never a row of another tenant, never a statement run (a `pg_sleep` would show in the
latency), and the victim's data and the schema are intact afterwards."""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import asyncpg

from tests.security.conftest import World, fingerprint

SQL = [
    "x' OR '1'='1",
    "x' OR 1=1 --",
    "x'); DROP TABLE directory.users; --",
    "x'; SELECT pg_sleep(3); --",
    "%",
    "_",
    "\\",
    "x\\' OR 1=1",
    "' UNION SELECT id, user_name FROM directory.users --",
    "$1",
    "\x00",
]

FILTERS = [
    *(f'userName eq "{p}"' for p in SQL),
    *(f'userName co "{p}"' for p in SQL),
    'userName eq "x\\" or \\"1\\"=\\"1"',
    'userName eq "a" or userName pr',
    "userName pr) OR (1=1",
    "userName eq x' OR '1'='1",
    'name.givenName; DROP TABLE directory.users eq "y"',
    'userName eq "x" and pg_sleep(3) pr',
    'emails[value co "\'"]',
    'emails[type eq "work\\" or \\"1\\"=\\"1"].value pr',
    'meta.created gt "2000-01-01T00:00:00Z\'::timestamptz OR 1=1--"',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x\' OR 1=1--"',
    "doc->>'userName' eq \"x\"",
    'userName eq "x" or 1 eq 1',
    'title eq "secret" or connection_id pr',
    "(" * 200 + 'userName eq "x"' + ")" * 200,
    "not (" * 100 + "userName pr" + ")" * 100,
]

SORTS = [
    "userName; DROP TABLE directory.users",
    "userName desc, (SELECT pg_sleep(3))",
    "doc->>'x'",
    "1",
    '"userName"',
    "name.givenName)--",
    "connection_id",
    "pg_sleep(3)",
    "userName' --",
]

ATTRIBUTES = [
    "userName,(select 1)",
    "doc",
    "password",
    "meta.version'--",
    "userName;DROP TABLE x",
    "connection_id",
    "x" * 2000,
    "urn:ietf:params:scim:schemas:core:2.0:User:password",
]

PATHS = [
    "' OR '1'='1",
    "1 OR 1=1",
    "..%2F..%2FGroups",
    "%00",
    "x'; DROP TABLE directory.users; --",
    "00000000-0000-0000-0000-000000000000' OR '1'='1",
    "(SELECT id FROM directory.users LIMIT 1)",
]

PATCH_PATHS = [
    "title'; DROP TABLE directory.users; --",
    'members[value eq "x\' or 1=1 --"]',
    'emails[type eq "work\\" or \\"1\\"=\\"1"].value',
    "doc",
    "connection_id",
    "meta.version",
    'members[value pr or value eq "x"]',
    "urn:ietf:params:scim:schemas:core:2.0:User:title'--",
]


async def test_injection_attempts_are_harmless(world: World) -> None:
    # A fresh attacker tenant: every row it can see is one this test created.
    fresh = await world.admin.enable(f"injector-{uuid.uuid4().hex[:6]}", "store")
    attacker = world.client(fresh)
    own = await attacker.post("/Users", {"userName": "attacker@evil.test"})
    own_id = own.json["id"]
    before = await fingerprint(world.stack, world.victim.connection_id)
    mine = {own_id}
    statuses: dict[int, int] = {}
    slowest = 0.0

    async def probe(
        method: str, path: str, body: object = None, params: dict[str, str] | None = None
    ) -> None:
        nonlocal slowest
        started = time.monotonic()
        resp = await attacker.request(method, path, body, params=params)
        slowest = max(slowest, time.monotonic() - started)
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
        where = f"{method} {path} {params}"
        assert resp.status < 500, f"{where}: {resp}"
        assert resp.headers["Content-Type"].startswith("application/scim+json"), where
        if resp.status == 200 and isinstance(resp.json, dict):
            found = {r.get("id") for r in resp.json.get("Resources", [])} | (
                {resp.json["id"]} if "id" in resp.json else set()
            )
            assert found <= mine | {None}, f"{where} returned rows that are not the caller's: {found - mine}"
            assert "password" not in resp.raw.decode(), where
        text = resp.raw.decode(errors="replace")
        for secret in [*world.user_ids, *world.user_names, "victim-admins"]:
            assert secret not in text, f"{where} leaked {secret}"

    for flt in FILTERS:
        await probe("GET", "/Users", params={"filter": flt})
        await probe(
            "POST",
            "/Users/.search",
            {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": flt},
        )
    for sort in SORTS:
        await probe("GET", "/Users", params={"sortBy": sort, "sortOrder": "descending' OR 1=1"})
        await probe("GET", "/Groups", params={"sortBy": sort})
    for attrs in ATTRIBUTES:
        await probe("GET", "/Users", params={"attributes": attrs})
        await probe("GET", f"/Users/{own_id}", params={"excludedAttributes": attrs})
        await probe(
            "GET", "/Users", params={"attributes": attrs, "startIndex": "1; DROP TABLE x", "count": "1e9"}
        )
    for path in PATHS:
        for method in ("GET", "DELETE", "PATCH"):
            await probe(
                method, f"/Users/{quote(path, safe='%')}", {"Operations": []} if method == "PATCH" else None
            )
    for patch_path in PATCH_PATHS:
        await probe(
            "PATCH",
            f"/Users/{own_id}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": patch_path, "value": "x' OR 1=1 --"}],
            },
        )
    # A PATCH may succeed (e.g. setting `title` to an odd string); it must stay the attacker's own user.
    assert slowest < 2.5, f"a request took {slowest:.1f}s: did a pg_sleep run?"
    assert await fingerprint(world.stack, world.victim.connection_id) == before
    conn = await asyncpg.connect(world.stack.database_url)
    try:
        for table in ("directory.users", "directory.groups", "directory.memberships", "directory.tokens"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") > 0
    finally:
        await conn.close()
    probes = 2 * len(FILTERS) + 2 * len(SORTS) + 3 * len(ATTRIBUTES) + 3 * len(PATHS) + len(PATCH_PATHS)
    assert sum(statuses.values()) == probes and set(statuses) <= {200, 204, 400, 404}, statuses
