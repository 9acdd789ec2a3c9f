"""Checklist §5 lines 14-24 of idp-clients.md: listing and filtering Users (RFC 7644 §3.4.2), plus sorting,
index paging, attribute projection and POST /.search (RFC 7644 §3.4.2.3-§3.4.3)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
from yarl import URL

from tests.support.scim_asserts import (
    ENTERPRISE_URN,
    assert_list,
    assert_scim_error,
    create_group,
    create_user,
    find,
    patch_op,
)
from tests.support.scim_client import ScimClient, ScimResponse


async def _seed(scim: ScimClient, n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        await create_user(
            scim,
            f"{prefix}{i:02d}@example.com",
            name={"givenName": f"Given{i}", "familyName": f"Family{i}"},
            emails=[{"value": f"{prefix}{i:02d}@example.com", "type": "work", "primary": True}],
        )
        for i in range(n)
    ]


async def _raw_get(
    http: aiohttp.ClientSession, scim: ScimClient, encoded_path_and_query: str
) -> ScimResponse:
    """GET with the query exactly as written, so each client's encoding reaches the server unchanged."""
    url = URL(scim.base + encoded_path_and_query, encoded=True)
    async with http.get(url, headers={"Authorization": scim.auth}) as resp:
        return ScimResponse(resp.status, resp.headers, await resp.read())


async def test_c14_okta_test_connection_listing(scim: ScimClient) -> None:
    body = assert_list(await scim.get("/Users", params={"startIndex": "1", "count": "2"}))
    assert body["totalResults"] == 0 and body["startIndex"] == 1 and body["Resources"] == []
    assert "resources" not in body
    groups = assert_list(await scim.get("/Groups", params={"startIndex": "1", "count": "100"}))
    assert groups["totalResults"] == 0


async def test_c15_first_user_carries_what_okta_checks(scim: ScimClient, unique: str) -> None:
    await _seed(scim, 2, f"c15-{unique}-")
    body = assert_list(await scim.get("/Users", params={"count": "1", "startIndex": "1"}))
    assert body["totalResults"] == 2 and body["itemsPerPage"] == 1
    user = body["Resources"][0]
    assert user["id"] and user["userName"] and user["active"] is True
    assert user["name"]["givenName"] and user["name"]["familyName"] and user["emails"][0]["value"]
    assert user["meta"]["resourceType"] == "User" and user["meta"]["location"].endswith(
        f"/Users/{user['id']}"
    )


async def test_c16_index_paging_returns_each_user_once_in_a_stable_order(
    scim: ScimClient, unique: str
) -> None:
    seeded = await _seed(scim, 12, f"c16-{unique}-")
    seen: list[str] = []
    for start in (1, 6, 11):
        body = assert_list(await scim.get("/Users", params={"startIndex": str(start), "count": "5"}))
        assert body["startIndex"] == start and body["totalResults"] == 12
        seen += [r["id"] for r in body["Resources"]]
    assert sorted(seen) == sorted(u["id"] for u in seeded) and len(seen) == 12
    again = assert_list(await scim.get("/Users", params={"startIndex": "6", "count": "5"}))
    assert [r["id"] for r in again["Resources"]] == seen[5:10]
    past_the_end = assert_list(await scim.get("/Users", params={"startIndex": "20", "count": "5"}))
    assert past_the_end["totalResults"] == 12 and past_the_end["Resources"] == []


async def test_c16_paging_edge_values_follow_rfc7644(scim: ScimClient, unique: str) -> None:
    await _seed(scim, 3, f"edge-{unique}-")
    # RFC 7644 §3.4.2.4: startIndex below 1 is read as 1, count 0 asks only for the total.
    low = assert_list(await scim.get("/Users", params={"startIndex": "0", "count": "2"}))
    assert low["startIndex"] == 1 and low["itemsPerPage"] == 2
    only_total = assert_list(await scim.get("/Users", params={"count": "0"}))
    assert only_total["totalResults"] == 3 and only_total["Resources"] == []
    capped = assert_list(await scim.get("/Users", params={"count": "100000"}))
    assert capped["itemsPerPage"] == 3
    assert_scim_error(await scim.get("/Users", params={"count": "ten"}), 400, "invalidValue")


async def test_c17_missing_user_filter_is_an_empty_list(scim: ScimClient) -> None:
    for value in ("nobody@example.com", f"Test_User_{uuid.uuid4()}"):
        body = await find(scim, "/Users", f'userName eq "{value}"', startIndex="1", count="100")
        assert body["totalResults"] == 0 and body["Resources"] == []


async def test_c18_filter_arrives_percent_encoded_plus_encoded_or_with_raw_quotes(
    scim: ScimClient, http: aiohttp.ClientSession, unique: str
) -> None:
    users = await _seed(scim, 3, f"c18-{unique}-")
    name = f"c18-{unique}-01@example.com"
    for query in (
        f"filter=userName%20eq%20%22{name}%22&startIndex=1&count=100",
        f"filter=userName+eq+%22{name}%22",
        f'filter=userName%20eq%20"{name}"&count=10',
        f'startIndex=1&count=1&filter=userName+eq+"{name}"',
    ):
        body = assert_list(await _raw_get(http, scim, f"/Users?{query}"))
        assert [r["id"] for r in body["Resources"]] == [users[1]["id"]], query
    paged = assert_list(await _raw_get(http, scim, f"/Users?filter=userName+sw+%22c18-{unique}%22&count=2"))
    assert paged["totalResults"] == 3 and paged["itemsPerPage"] == 2


async def test_c19_user_name_matches_and_conflicts_case_insensitively(scim: ScimClient, unique: str) -> None:
    stored = await create_user(scim, f"runscope-{unique}@example.com")
    body = await find(scim, "/Users", f'userName eq "RUNSCOPE-{unique.upper()}@EXAMPLE.COM"')
    assert [r["id"] for r in body["Resources"]] == [stored["id"]]
    duplicate = await scim.post("/Users", {"userName": f"RunScope-{unique}@Example.com"})
    assert_scim_error(duplicate, 409, "uniqueness")


async def test_c20_entra_and_okta_matching_attributes(scim: ScimClient, unique: str) -> None:
    user = await create_user(
        scim,
        f"match-{unique}",
        externalId=f"ext-{unique}",
        emails=[
            {"value": f"work-{unique}@example.com", "type": "work"},
            {"value": f"home-{unique}@example.com", "type": "home"},
        ],
    )
    await create_user(scim, f"other-{unique}", externalId=f"other-ext-{unique}")
    for scim_filter in (
        f'externalId eq "ext-{unique}"',
        f'emails eq "home-{unique}@example.com"',
        f'emails[type eq "work"].value eq "work-{unique}@example.com"',
        f'emails.value eq "WORK-{unique}@example.com"',
        f'id eq "{user["id"]}"',
    ):
        body = await find(scim, "/Users", scim_filter)
        assert [r["id"] for r in body["Resources"]] == [user["id"]], scim_filter
    # A work-typed filter must not match the home address.
    none = await find(scim, "/Users", f'emails[type eq "work"].value eq "home-{unique}@example.com"')
    assert none["totalResults"] == 0
    # Entra's doc example writes the value without quotes; it is still a value, not a path.
    assert (await find(scim, "/Users", f"externalId eq ext-{unique}"))["totalResults"] == 1


async def test_c21_group_by_display_name_without_members(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c21-{unique}")
    group = await create_group(scim, f"Grp {unique}", (user["id"],))
    await create_group(scim, f"Other {unique}")
    body = await find(scim, "/Groups", f'displayName eq "Grp {unique}"', excludedAttributes="members")
    assert [g["id"] for g in body["Resources"]] == [group["id"]]
    assert "members" not in body["Resources"][0] and body["Resources"][0]["displayName"] == f"Grp {unique}"
    with_members = await find(scim, "/Groups", f'displayName eq "Grp {unique}"')
    assert [m["value"] for m in with_members["Resources"][0]["members"]] == [user["id"]]


async def test_c22_operators_and_attribute_names_are_case_insensitive(scim: ScimClient, unique: str) -> None:
    user = await create_user(
        scim,
        f"c22-{unique}",
        displayName=f"Bob {unique}",
        name={"givenName": "Bob", "familyName": f"Employee{unique}"},
    )
    for scim_filter in (
        f'userName EQ "c22-{unique}"',
        f'DisplayName eq "Bob {unique}"',
        f'name.FamilyName eq "employee{unique}"',
        f'USERNAME Eq "c22-{unique}" AND name.givenName eq "Bob"',
        f'userName eq "nope" Or NAME.familyname Sw "Employee{unique}"',
        f'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "c22-{unique}"',
    ):
        body = await find(scim, "/Users", scim_filter)
        assert [r["id"] for r in body["Resources"]] == [user["id"]], scim_filter


async def test_c23_filters_that_cannot_be_evaluated_are_invalid_filter(scim: ScimClient) -> None:
    for scim_filter in (
        "userName eq",
        'userName xx "a"',
        '(userName eq "a"',
        'nosuchattribute eq "a"',
        "RUNSCOPEUSER@EXAMPLE.COM",  # Okta's 2016 "case sensitivity" step: no operator at all
        "active gt true",
        'emails[type eq "work"',
        'meta.created gt "not a date"',
        f'urn:example:unknown:1.0:User:foo eq "{uuid.uuid4()}"',
    ):
        resp = await scim.get("/Users", params={"filter": scim_filter})
        assert_scim_error(resp, 400, "invalidFilter")


async def test_c24_deactivated_users_are_still_found(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"c24-{unique}")
    resp = await scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "value": {"active": False}}))
    assert resp.status == 200 and resp.json["active"] is False, resp
    assert (await scim.get(f"/Users/{user['id']}")).json["active"] is False
    body = await find(scim, "/Users", f'userName eq "c24-{unique}"')
    assert body["totalResults"] == 1 and body["Resources"][0]["active"] is False
    assert (await find(scim, "/Users", "active eq false"))["totalResults"] == 1


async def test_sort_by_and_sort_order(scim: ScimClient, unique: str) -> None:
    for name in ("carol", "alice", "Bob"):
        await create_user(scim, f"{name}-{unique}", name={"familyName": name.upper()})
    ascending = assert_list(await scim.get("/Users", params={"sortBy": "userName"}))
    assert [r["userName"].split("-")[0] for r in ascending["Resources"]] == ["alice", "Bob", "carol"]
    descending = assert_list(
        await scim.get("/Users", params={"sortBy": "name.familyName", "sortOrder": "descending"})
    )
    assert [r["name"]["familyName"] for r in descending["Resources"]] == ["CAROL", "BOB", "ALICE"]
    assert_scim_error(await scim.get("/Users", params={"sortOrder": "sideways"}), 400, "invalidValue")
    assert_scim_error(await scim.get("/Users", params={"sortBy": "nosuch"}), 400, "invalidValue")


async def test_attributes_and_excluded_attributes_on_lists_and_reads(scim: ScimClient, unique: str) -> None:
    user = await create_user(
        scim,
        f"proj-{unique}",
        title="Engineer",
        emails=[{"value": "p@example.com"}],
        **{ENTERPRISE_URN: {"department": "R&D"}},
    )
    only = assert_list(await scim.get("/Users", params={"attributes": "userName"}))["Resources"][0]
    # RFC 7643 §7: `id` is returned always, whatever `attributes` says; `schemas` is always there too.
    assert set(only) == {"schemas", "id", "userName"} and only["id"] == user["id"]
    sub = assert_list(
        await scim.get(
            "/Users",
            params={
                "attributes": "emails.value,urn:ietf:params:scim:schemas:"
                "extension:enterprise:2.0:User:department"
            },
        )
    )
    resource = sub["Resources"][0]
    assert resource["emails"] == [{"value": "p@example.com"}] and resource[ENTERPRISE_URN] == {
        "department": "R&D"
    }
    read = await scim.get(f"/Users/{user['id']}", params={"excludedAttributes": "title,emails,id"})
    assert read.status == 200 and "title" not in read.json and "emails" not in read.json
    assert read.json["id"] == user["id"] and read.json["userName"] == f"proj-{unique}"
    filtered = await scim.get(f"/Users/{user['id']}", params={"attributes": 'emails[type eq "work"]'})
    assert filtered.status == 200 and "emails" in filtered.json and "title" not in filtered.json


async def test_post_search_on_users_and_groups(scim: ScimClient, unique: str) -> None:
    users = await _seed(scim, 4, f"search-{unique}-")
    await create_group(scim, f"search-{unique}", (users[0]["id"],))
    body = assert_list(
        await scim.post(
            "/Users/.search",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": f'userName sw "search-{unique}"',
                "sortBy": "userName",
                "sortOrder": "descending",
                "startIndex": 2,
                "count": 2,
                "attributes": ["userName"],
            },
        )
    )
    assert body["totalResults"] == 4 and body["startIndex"] == 2
    assert [r["userName"] for r in body["Resources"]] == [users[2]["userName"], users[1]["userName"]]
    assert set(body["Resources"][0]) == {"schemas", "id", "userName"}
    groups = assert_list(await scim.post("/Groups/.search", {"excludedAttributes": ["members"]}))
    assert groups["totalResults"] == 1 and "members" not in groups["Resources"][0]
    assert_scim_error(await scim.post("/Users/.search", {"filter": "userName eq"}), 400, "invalidFilter")
    assert_scim_error(await scim.get("/Users/.search"), 405)
    # RFC 7644 §3.4.3 root search spans resource types, which this server does not offer.
    assert_scim_error(await scim.post("/.search", {"filter": 'userName eq "x"'}), 501)


async def test_concurrent_lists_agree_on_the_total(scim: ScimClient, unique: str) -> None:
    await _seed(scim, 5, f"total-{unique}-")
    pages = await asyncio.gather(
        *(scim.get("/Users", params={"startIndex": str(s), "count": "2"}) for s in (1, 3, 5, 7))
    )
    assert {assert_list(p)["totalResults"] for p in pages} == {5}
