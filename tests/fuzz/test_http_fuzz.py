"""Property-based fuzzing of the whole stack over HTTP: hostile filters, query parameters, PATCH bodies,
resource bodies, headers and extreme shapes. For every generated case:

* no 5xx (501 only where a feature is declared unsupported: /Me and server-root queries);
* every error is an RFC 7644 §3.12 body served as `application/scim+json`;
* a rejected write leaves the tenant's data unchanged (read with SQL before and after);
* an accepted write leaves the resource readable.

`FUZZ_CASES` sets the total number of cases (default 1,000; the heavy run uses 10,000 or more), shared out
between the targets below; the number actually run is recorded.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.fuzz import strategies as s
from tests.reliability.harness import record_figures
from tests.support.admin import Admin
from tests.support.servers import Servers
from tests.support.stack import Stack, own_stack

CASES = int(os.environ.get("FUZZ_CASES", "1000"))
SHARES = {"filters": 0.22, "query": 0.1, "patch": 0.25, "bodies": 0.2, "headers": 0.15, "extremes": 0.08}
MAX_BODY = 256 * 1024
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def budget(target: str) -> settings:
    return settings(
        max_examples=max(1, round(CASES * SHARES[target])),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class Target:
    stack: Stack
    session: aiohttp.ClientSession
    db: asyncpg.Connection
    base: str
    token: str
    connection_id: str
    user_id: str
    group_id: str
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    rejected_writes: int = 0

    async def fingerprint(self) -> str:
        return str(
            await self.db.fetchval(
                """
            SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
                SELECT 'u' || id || ':' || version || ':' || md5(doc::text) FROM directory.users
                 WHERE connection_id = $1::uuid
                UNION ALL
                SELECT 'g' || id || ':' || version || ':' || md5(doc::text) FROM directory.groups
                 WHERE connection_id = $1::uuid
                UNION ALL
                SELECT 'm' || group_id || ':' || user_id FROM directory.memberships
                 WHERE connection_id = $1::uuid
            ) AS s(x)
            """,
                self.connection_id,
            )
        )

    async def reseed(self) -> None:
        """A generated DELETE may remove the seeded user or group: put fresh ones in their place."""
        auth = {"Authorization": f"Bearer {self.token}"}
        async with self.session.get(f"{self.base}/Users/{self.user_id}", headers=auth) as r:
            if r.status == 404:
                async with self.session.post(
                    f"{self.base}/Users",
                    json={"userName": f"fuzz-{uuid.uuid4().hex[:8]}@fuzz.test"},
                    headers=auth,
                ) as created:
                    self.user_id = (await created.json(content_type=None))["id"]
        async with self.session.get(f"{self.base}/Groups/{self.group_id}", headers=auth) as r:
            if r.status == 404:
                async with self.session.post(
                    f"{self.base}/Groups",
                    json={
                        "displayName": f"fuzzers-{uuid.uuid4().hex[:8]}",
                        "members": [{"value": self.user_id}],
                    },
                    headers=auth,
                ) as created:
                    self.group_id = (await created.json(content_type=None))["id"]

    async def case(
        self,
        target: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: str | None = None,
    ) -> int:
        """Send one generated request and check every invariant; returns the status."""
        self.cases[target] += 1
        hdrs = {"Authorization": auth if auth is not None else f"Bearer {self.token}"}
        data = raw
        if raw is None and body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/scim+json"
        hdrs.update(headers or {})
        before = await self.fingerprint() if method in WRITES else ""
        async with self.session.request(
            method, self.base + path, params=params, data=data, headers=hdrs
        ) as resp:
            status, rheaders, payload = resp.status, resp.headers, await resp.read()
            # The path as sent: the client resolves dot segments (RFC 3986 §5.2.4), so `/.` or
            # `/Users/..` reach the server root.
            sent = resp.url.path.removeprefix(URL(self.base).path)
        self.statuses[status] += 1
        where = f"{method} {path} params={params!r} body={(data or b'')[:300]!r} headers={headers!r}"
        # The server root is any path of empty segments (`//` too), with or without `.search`.
        allowed_501 = sent.rstrip("/").lower().endswith("/me") or sent.strip("/") in ("", ".search")
        assert status < 500 or (status == 501 and allowed_501), f"{status} for {where}: {payload[:500]!r}"
        if method != "HEAD" and status not in (204, 304):
            assert rheaders.get("Content-Type", "").startswith("application/scim+json"), (
                f"{where}: {rheaders}"
            )
        if status >= 400 and method != "HEAD":
            error = json.loads(payload)
            assert error["schemas"] == [ERROR_URN] and error["status"] == str(status), f"{where}: {error}"
            assert isinstance(error.get("detail"), str) and "Traceback" not in error["detail"], where
        if method in WRITES:
            if status >= 400:
                self.rejected_writes += 1
                assert await self.fingerprint() == before, (
                    f"rejected ({status}) but the data changed: {where}"
                )
            elif status < 300:
                if method == "DELETE":
                    await self.reseed()
                for rid, kind in ((self.user_id, "Users"), (self.group_id, "Groups")):
                    async with self.session.get(
                        f"{self.base}/{kind}/{rid}", headers={"Authorization": f"Bearer {self.token}"}
                    ) as r:
                        assert r.status == 200, (
                            f"after {where}: GET {kind} -> {r.status} {(await r.read())[:300]!r}"
                        )
        return status


@pytest_asyncio.fixture(scope="module")
async def target(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[Target]:
    # The rate limit is lifted: the fuzzer is one fast client, and 429s would hide what it is probing.
    env = {"EDGE_RATE_LIMIT_PER_SECOND": "0", "EDGE_MAX_BODY_BYTES": str(MAX_BODY)}
    async with own_stack(request, servers, "fuzz", env=env) as stack, fuzzing(stack) as t:
        yield t


@asynccontextmanager
async def fuzzing(stack: Stack) -> AsyncIterator[Target]:
    """A tenant with one user and one group to aim at; the figures of the cases run are kept at the end."""
    admin = Admin(stack)
    db = await asyncpg.connect(stack.database_url)
    try:
        tenant = await admin.enable(f"fuzz-{uuid.uuid4().hex[:6]}", "store")
        base = f"{stack.edge_url}/scim/v2/{tenant.base_url.split('/scim/v2/', 1)[1]}"
        async with aiohttp.ClientSession() as session:
            auth = {"Authorization": f"Bearer {tenant.token}"}
            async with session.post(
                f"{base}/Users", json={"userName": "fuzz@fuzz.test", "title": "t"}, headers=auth
            ) as r:
                user_id = (await r.json(content_type=None))["id"]
            async with session.post(
                f"{base}/Groups",
                json={"displayName": "fuzzers", "members": [{"value": user_id}]},
                headers=auth,
            ) as r:
                group_id = (await r.json(content_type=None))["id"]
            t = Target(stack, session, db, base, tenant.token, tenant.connection_id, user_id, group_id)
            yield t
            record_figures(
                "fuzz",
                {
                    "cases_requested": CASES,
                    "cases_run": sum(t.cases.values()),
                    "cases_by_target": dict(t.cases),
                    "statuses": dict(t.statuses),
                    "rejected_writes_checked_unchanged": t.rejected_writes,
                    "status_5xx": sum(n for st_, n in t.statuses.items() if st_ >= 500 and st_ != 501),
                },
            )
    finally:
        await db.close()
        await admin.close()


@budget("filters")
@given(flt=s.filters, kind=st.sampled_from(["Users", "Groups"]), via_search=st.booleans())
async def test_fuzz_filters(target: Target, flt: str, kind: str, via_search: bool) -> None:
    if via_search:
        await target.case(
            "filters",
            "POST",
            f"/{kind}/.search",
            body={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": flt},
        )
    else:
        status = await target.case("filters", "GET", f"/{kind}", params={"filter": flt})
        assert status in (200, 400), status


@budget("query")
@given(params=s.list_params, kind=st.sampled_from(["Users", "Groups"]), one=st.booleans())
async def test_fuzz_query_parameters(target: Target, params: dict[str, str], kind: str, one: bool) -> None:
    rid = target.user_id if kind == "Users" else target.group_id
    await target.case("query", "GET", f"/{kind}/{rid}" if one else f"/{kind}", params=params)


@budget("patch")
@given(body=s.patch_bodies, on_user=st.booleans(), if_match=st.sampled_from([None, "*", 'W/"1"', "garbage"]))
async def test_fuzz_patch_bodies(target: Target, body: Any, on_user: bool, if_match: str | None) -> None:
    path = f"/Users/{target.user_id}" if on_user else f"/Groups/{target.group_id}"
    await target.case("patch", "PATCH", path, body=body, headers={"If-Match": if_match} if if_match else None)


@budget("bodies")
@given(
    body=s.resource_bodies, method=st.sampled_from(["POST", "PUT"]), kind=st.sampled_from(["Users", "Groups"])
)
async def test_fuzz_resource_bodies(target: Target, body: Any, method: str, kind: str) -> None:
    rid = target.user_id if kind == "Users" else target.group_id
    await target.case("bodies", method, f"/{kind}" if method == "POST" else f"/{kind}/{rid}", body=body)


PATHS = [
    "/Users",
    "/Groups",
    "/Users/{u}",
    "/Groups/{g}",
    "/Users/.search",
    "/Bulk",
    "/Schemas",
    "/ServiceProviderConfig",
    "/ResourceTypes",
    "/ResourceTypes/User",
    "/Me",
    "",
    "/.search",
    "/users/{u}/",
    "/Users/{g}",
    "/x",
    "/Users/{u}/extra",
    "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
]


@budget("headers")
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    path=st.sampled_from(PATHS) | s.printable.map(lambda p: "/" + p.replace("?", "").replace("#", "")),
    content_type=st.sampled_from(s.CONTENT_TYPES) | s.header_values,
    accept=st.sampled_from(["application/scim+json", "application/json", "text/html", "*/*", ""])
    | s.header_values,
    if_match=st.none() | st.sampled_from(["*", 'W/"1"', '"1"', 'W/"x"', "W/", ""]) | s.header_values,
    if_none_match=st.none() | s.header_values,
    auth=st.sampled_from(["bearer", "raw", "lower", "basic", "empty", "junk"]),
    body=st.none() | s.json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=200),
)
async def test_fuzz_headers_methods_paths(
    target: Target,
    method: str,
    path: str,
    content_type: str,
    accept: str,
    if_match: str | None,
    if_none_match: str | None,
    auth: str,
    body: bytes | None,
) -> None:
    authorization = {
        "bearer": f"Bearer {target.token}",
        "raw": target.token,
        "lower": f"bearer {target.token}",
        "basic": "Basic Zm9vOmJhcg==",
        "empty": "",
        "junk": "Bearer x",
    }[auth]
    headers = {"Content-Type": content_type, "Accept": accept}
    if if_match is not None:
        headers["If-Match"] = if_match
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    concrete = path.replace("{u}", target.user_id).replace("{g}", target.group_id)
    await target.case("headers", method, concrete, raw=body, headers=headers, auth=authorization)


def _nested(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@budget("extremes")
@given(
    depth=st.integers(1, 200_000),
    kind=st.sampled_from(["array", "object"]),
    where=st.sampled_from(
        ["body", "patch-value", "filter", "many-ops", "long-string", "over-limit", "big-number"]
    ),
)
async def test_fuzz_extremes(target: Target, depth: int, kind: str, where: str) -> None:
    uid = target.user_id
    if where == "body":
        await target.case(
            "extremes",
            "POST",
            "/Users",
            raw=_nested(depth, kind),
            headers={"Content-Type": "application/scim+json"},
        )
    elif where == "patch-value":
        nested = _nested(min(depth, 60_000), kind).decode()
        head = json.dumps({"schemas": [s.PATCH_URN], "Operations": [{"op": "replace", "path": "title"}]})
        raw = (head[:-3] + ', "value": ' + nested + "}]}").encode()
        await target.case(
            "extremes", "PATCH", f"/Users/{uid}", raw=raw, headers={"Content-Type": "application/scim+json"}
        )
    elif where == "filter":
        # Deep nesting travels in a .search body; in a URL it is kept under aiohttp's 8 KiB request line.
        deep = min(depth, 5000)
        flt = (
            "(" * deep + 'userName eq "x"' + ")" * deep
            if kind == "array"
            else "not (" * deep + "userName pr" + ")" * deep
        )
        await target.case("extremes", "POST", "/Users/.search", body={"filter": flt})
        shallow = min(depth, 300)
        await target.case(
            "extremes", "GET", "/Users", params={"filter": "(" * shallow + "userName pr" + ")" * shallow}
        )
    elif where == "many-ops":
        ops = [{"op": "add", "path": "members", "value": [{"value": str(uuid.uuid4())}]}] * min(depth, 2_000)
        await target.case(
            "extremes",
            "PATCH",
            f"/Groups/{target.group_id}",
            body={"schemas": [s.PATCH_URN], "Operations": ops},
        )
    elif where == "long-string":
        size = min(depth, MAX_BODY - 1000)
        await target.case(
            "extremes", "PUT", f"/Users/{uid}", body={"userName": "fuzz@fuzz.test", "title": "x" * size}
        )
    elif where == "over-limit":
        status = await target.case(
            "extremes",
            "POST",
            "/Users",
            raw=b" " * (MAX_BODY + 1 + depth % 1000),
            headers={"Content-Type": "application/scim+json"},
        )
        assert status == 413
    else:
        await target.case(
            "extremes",
            "POST",
            "/Users",
            raw=b'{"userName":"n@x.test","title":' + b"9" * min(depth, 5000) + b"}",
            headers={"Content-Type": "application/scim+json"},
        )


def test_fuzz_budget_covers_the_requested_cases() -> None:
    """The shares add up, so FUZZ_CASES=10000 really asks for ten thousand cases."""
    assert abs(sum(SHARES.values()) - 1.0) < 1e-9
    assert sum(max(1, round(CASES * share)) for share in SHARES.values()) >= CASES
