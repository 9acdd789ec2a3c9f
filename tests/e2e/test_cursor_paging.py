"""RFC 9865 cursor paging end to end: discovery, next/previous cursors, stability under concurrent writes,
cursors bound to their query, expiry, and cursors shared by directory replicas."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import asyncpg
import pytest
from directory.domain.cursors import Cursor, CursorCodec, Position, query_key

from tests.support.admin import Admin, Tenant
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack, stack_fixture

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


async def make_users(scim: ScimClient, unique: str, *names: str) -> dict[str, str]:
    ids = {}
    for name in names:
        created = await scim.post("/Users", {"schemas": [USER], "userName": f"{name}-{unique}"})
        assert created.status == 201, created
        ids[name] = created.json["id"]
    return ids


async def walk(scim: ScimClient, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every page from an empty cursor to the one without nextCursor."""
    pages = []
    cursor = ""
    while True:
        reply = await scim.get("/Users", params={**params, "cursor": cursor})
        assert reply.status == 200, reply
        pages.append(reply.json)
        if "nextCursor" not in reply.json:
            return pages
        cursor = reply.json["nextCursor"]


def names(page: dict[str, Any]) -> list[str]:
    return [r["userName"].split("-", 1)[0] for r in page["Resources"]]


async def test_service_provider_config_announces_cursors(scim: ScimClient) -> None:
    spc = (await scim.get("/ServiceProviderConfig")).json
    pagination = spc["pagination"]
    assert pagination["cursor"] is True and pagination["index"] is True
    assert pagination["defaultPaginationMethod"] == "index"
    assert pagination["cursorTimeout"] > 0
    assert pagination["maxPageSize"] == spc["filter"]["maxResults"]


async def test_pages_follow_next_and_previous_cursors(scim: ScimClient, unique: str) -> None:
    await make_users(scim, unique, "gus", "ann", "fay", "bob", "eve", "cal", "dan")
    params = {"filter": f'userName ew "-{unique}"', "sortBy": "userName", "count": "3"}
    pages = await walk(scim, params)
    assert [names(p) for p in pages] == [["ann", "bob", "cal"], ["dan", "eve", "fay"], ["gus"]]
    for page in pages:
        assert page["totalResults"] == 7 and page["itemsPerPage"] == len(page["Resources"])
        assert "startIndex" not in page
    assert "previousCursor" not in pages[0]
    assert pages[1]["previousCursor"] and pages[2]["previousCursor"]

    back = await scim.get("/Users", params={**params, "cursor": pages[2]["previousCursor"]})
    assert back.status == 200, back
    assert names(back.json) == ["dan", "eve", "fay"]
    first = await scim.get("/Users", params={**params, "cursor": back.json["previousCursor"]})
    assert names(first.json) == ["ann", "bob", "cal"] and "previousCursor" not in first.json

    descending = await walk(scim, {**params, "sortOrder": "descending"})
    assert [n for p in descending for n in names(p)] == ["gus", "fay", "eve", "dan", "cal", "bob", "ann"]


async def test_without_cursor_paging_stays_index_based(scim: ScimClient, unique: str) -> None:
    await make_users(scim, unique, "ann", "bob")
    reply = await scim.get("/Users", params={"filter": f'userName ew "-{unique}"', "count": "1"})
    assert reply.json["startIndex"] == 1 and "nextCursor" not in reply.json


async def test_search_request_body_takes_a_cursor(scim: ScimClient, unique: str) -> None:
    await make_users(scim, unique, "ann", "bob", "cal")
    body = {"schemas": [SEARCH], "filter": f'userName ew "-{unique}"', "sortBy": "userName", "count": 2}
    first = await scim.post("/Users/.search", {**body, "cursor": ""})
    assert first.status == 200, first
    second = await scim.post("/Users/.search", {**body, "cursor": first.json["nextCursor"]})
    assert names(first.json) + names(second.json) == ["ann", "bob", "cal"]


async def test_pages_are_stable_while_users_are_created_and_deleted(scim: ScimClient, unique: str) -> None:
    ids = await make_users(scim, unique, "b1", "b2", "b3", "b4", "b5", "b6")
    params = {"filter": f'userName ew "-{unique}"', "sortBy": "userName", "count": "2"}
    first = await scim.get("/Users", params={**params, "cursor": ""})
    assert names(first.json) == ["b1", "b2"]
    # With index paging these would shift page 2: one insert before the cursor, one delete before it.
    await make_users(scim, unique, "a0", "b35", "c9")
    assert (await scim.delete(f"/Users/{ids['b1']}")).status == 204

    seen = names(first.json)
    reply = first.json
    while "nextCursor" in reply:
        reply = (await scim.get("/Users", params={**params, "cursor": reply["nextCursor"]})).json
        seen += names(reply)
    assert seen == ["b1", "b2", "b3", "b35", "b4", "b5", "b6", "c9"]
    assert reply["totalResults"] == 8  # counted when the page is read: 6 + 3 created - 1 deleted


async def test_a_cursor_only_serves_its_own_query(scim: ScimClient, unique: str) -> None:
    await make_users(scim, unique, "ann", "bob")
    params = {"filter": f'userName ew "-{unique}"', "sortBy": "userName", "count": "1"}
    cursor = (await scim.get("/Users", params={**params, "cursor": ""})).json["nextCursor"]

    for changed in ({"filter": 'userName sw "ann"'}, {"sortBy": "displayName"}, {"sortOrder": "descending"}):
        reply = await scim.get("/Users", params={**params, **changed, "cursor": cursor})
        assert reply.status == 400, (changed, reply)
        assert reply.json["scimType"] == "invalidCursor"
    groups = await scim.get("/Groups", params={**params, "filter": "", "cursor": cursor})
    assert groups.status == 400 and groups.json["scimType"] == "invalidCursor"
    forged = await scim.get("/Users", params={**params, "cursor": cursor[:-3] + "AAA"})
    assert forged.status == 400 and forged.json["scimType"] == "invalidCursor"
    both = await scim.get("/Users", params={**params, "cursor": cursor, "startIndex": "2"})
    assert both.status == 400 and both.json["scimType"] == "invalidValue"


async def cursor_secret(database_url: str) -> bytes:
    conn = await asyncpg.connect(database_url)
    try:
        return bytes(await conn.fetchval("SELECT secret FROM directory.server_secrets WHERE name = 'cursor'"))
    finally:
        await conn.close()


async def test_cursors_are_sealed_with_the_shared_secret_and_expire(
    scim: ScimClient, store_tenant: Tenant, database_url: str, unique: str
) -> None:
    await make_users(scim, unique, "ann", "bob", "cal")
    params = {"filter": f'userName ew "-{unique}"', "sortBy": "userName", "count": "1"}
    timeout = (await scim.get("/ServiceProviderConfig")).json["pagination"]["cursorTimeout"]
    query = query_key(store_tenant.connection_id, "User", params["filter"], "userName", False)
    secret = await cursor_secret(database_url)
    at_ann = Position(f"ann-{unique}", 2**62)  # past every seq that shares the sort value

    # A cursor sealed with the database-held secret is one every replica accepts ...
    fresh = CursorCodec(secret, timeout).seal(query, Cursor("after", at_ann))
    reply = await scim.get("/Users", params={**params, "cursor": fresh})
    assert reply.status == 200, reply
    assert names(reply.json) == ["bob"]

    # ... until cursorTimeout has passed since it was issued.
    issued_long_ago = CursorCodec(secret, timeout, clock=lambda: time.time() - timeout - 5)
    expired = await scim.get(
        "/Users", params={**params, "cursor": issued_long_ago.seal(query, Cursor("after", at_ann))}
    )
    assert expired.status == 400, expired
    assert expired.json["scimType"] == "expiredCursor"


two_replicas = stack_fixture("cursor_replicas", replicas=2)


@pytest.mark.heavy
async def test_a_cursor_from_one_replica_works_on_the_other(
    two_replicas: Stack, http: aiohttp.ClientSession, unique: str
) -> None:
    admin = Admin(two_replicas)
    try:
        tenant = await admin.enable(f"cursor-{unique}", "store")
        edges = [ScimClient(http, url, tenant) for url in two_replicas.edge_urls]
        await make_users(edges[0], unique, "ann", "bob", "cal", "dan")
        params = {"sortBy": "userName", "count": "1"}
        # Edges spread calls over both directory replicas, so nine hops all but surely cross between them.
        for _ in range(3):
            seen: list[str] = []
            reply = await edges[0].get("/Users", params={**params, "cursor": ""})
            hop = 0
            while True:
                assert reply.status == 200, reply
                seen += names(reply.json)
                if "nextCursor" not in reply.json:
                    break
                hop += 1
                reply = await edges[hop % 2].get(
                    "/Users", params={**params, "cursor": reply.json["nextCursor"]}
                )
            assert seen == ["ann", "bob", "cal", "dan"]
    finally:
        await admin.close()
