"""/Bulk end to end (RFC 7644 §3.7): bulkId references, cycles, failOnErrors, limits, per-operation errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from tests.support.scim_client import ScimClient

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def bulk(*operations: Any, **extra: Any) -> dict[str, Any]:
    return {"schemas": [BULK_REQUEST], "Operations": list(operations), **extra}


def post_user(bulk_id: str, user_name: str, **attrs: Any) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/Users",
        "bulkId": bulk_id,
        "data": {"schemas": [USER], "userName": user_name, **attrs},
    }


def managed_by(ref: str) -> dict[str, Any]:
    return {ENTERPRISE: {"manager": {"value": f"bulkId:{ref}"}}}


async def test_forward_reference_creates_users_before_the_group_that_lists_them(
    scim: ScimClient, unique: str
) -> None:
    reply = await scim.post(
        "/Bulk",
        bulk(
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "team",
                "data": {
                    "schemas": [GROUP],
                    "displayName": f"team-{unique}",
                    "members": [
                        {"type": "User", "value": "bulkId:ann"},
                        {"type": "User", "value": "bulkId:bob"},
                    ],
                },
            },
            post_user("ann", f"ann-{unique}"),
            post_user("bob", f"bob-{unique}"),
        ),
    )
    assert reply.status == 200, reply
    assert reply.headers["Content-Type"].startswith("application/scim+json")
    body = reply.json
    assert body["schemas"] == [BULK_RESPONSE]
    ops = body["Operations"]
    assert [(o["method"], o["bulkId"], o["status"]) for o in ops] == [
        ("POST", "team", "201"),
        ("POST", "ann", "201"),
        ("POST", "bob", "201"),
    ]
    ids = {}
    for o in ops:
        assert o["version"].startswith('W/"')
        endpoint = "Groups" if o["bulkId"] == "team" else "Users"
        assert f"/{endpoint}/" in o["location"] and o["location"].startswith("http")
        ids[o["bulkId"]] = o["location"].rsplit("/", 1)[1]

    group = await scim.get(f"/Groups/{ids['team']}")
    assert group.status == 200, group
    assert sorted(m["value"] for m in group.json["members"]) == sorted([ids["ann"], ids["bob"]])
    ann = await scim.get(f"/Users/{ids['ann']}")
    assert ann.json["userName"] == f"ann-{unique}"
    # The group created after her took her in: `groups` changed, and with it her ETag (issue 11).
    assert [g["value"] for g in ann.json["groups"]] == [ids["team"]]
    assert ann.json["meta"]["version"] == ann.headers["ETag"] != ops[1]["version"]


async def test_path_reference_and_version_precondition(scim: ScimClient, unique: str) -> None:
    reply = await scim.post(
        "/Bulk",
        bulk(
            {
                "method": "PATCH",
                "path": "/Users/bulkId:u",
                "data": {
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "replace", "path": "title", "value": "Boss"}],
                },
            },
            post_user("u", f"u-{unique}"),
            {
                "method": "PUT",
                "path": "/Users/bulkId:u",
                "version": 'W/"999"',
                "data": {"schemas": [USER], "userName": f"u-{unique}"},
            },
        ),
    )
    assert reply.status == 200, reply
    patch, post, put = reply.json["Operations"]
    assert post["status"] == "201" and patch["status"] == "200"
    uid = post["location"].rsplit("/", 1)[1]
    assert patch["location"] == post["location"]
    assert patch["version"] == 'W/"2"'
    # The stale version fails that operation alone, with an RFC 7644 §3.12 body and the location.
    assert put["status"] == "412" and put["location"].endswith(f"/Users/{uid}")
    assert put["response"]["schemas"] == [ERROR] and put["response"]["status"] == "412"
    user = await scim.get(f"/Users/{uid}")
    assert user.json["title"] == "Boss"


async def test_a_cycle_fails_with_409_and_everything_else_runs(scim: ScimClient, unique: str) -> None:
    reply = await scim.post(
        "/Bulk",
        bulk(
            post_user("a", f"a-{unique}", **managed_by("b")),
            post_user("b", f"b-{unique}", **managed_by("a")),
            post_user("c", f"c-{unique}", **managed_by("d")),
            post_user("d", f"d-{unique}"),
            post_user("e", f"e-{unique}", **managed_by("a")),
        ),
    )
    assert reply.status == 200, reply
    status = {o["bulkId"]: o for o in reply.json["Operations"]}
    assert {k: v["status"] for k, v in status.items()} == {
        "a": "409",
        "b": "409",
        "c": "201",
        "d": "201",
        "e": "409",
    }
    assert "circular" in status["a"]["response"]["detail"]
    assert "location" not in status["a"]  # RFC 7644 §3.7: a failed POST has no location
    c = await scim.get(f"/Users/{status['c']['location'].rsplit('/', 1)[1]}")
    assert c.json[ENTERPRISE]["manager"]["value"] == status["d"]["location"].rsplit("/", 1)[1]
    names = await scim.get("/Users", params={"filter": f'userName ew "-{unique}"'})
    assert sorted(u["userName"] for u in names.json["Resources"]) == [f"c-{unique}", f"d-{unique}"]


async def test_fail_on_errors_stops_after_that_many_failures(scim: ScimClient, unique: str) -> None:
    taken = await scim.post("/Users", {"schemas": [USER], "userName": f"taken-{unique}"})
    assert taken.status == 201
    reply = await scim.post(
        "/Bulk",
        bulk(
            post_user("ok1", f"ok1-{unique}"),
            post_user("dup1", f"taken-{unique}"),
            post_user("dup2", f"TAKEN-{unique}"),
            post_user("ok2", f"ok2-{unique}"),
            failOnErrors=2,
        ),
    )
    assert reply.status == 200, reply
    ops = reply.json["Operations"]
    assert [(o["bulkId"], o["status"]) for o in ops] == [("ok1", "201"), ("dup1", "409"), ("dup2", "409")]
    assert ops[1]["response"]["scimType"] == "uniqueness"
    missing = await scim.get("/Users", params={"filter": f'userName eq "ok2-{unique}"'})
    assert missing.json["totalResults"] == 0


async def test_bad_paths_and_methods_fail_per_operation(scim: ScimClient, unique: str) -> None:
    reply = await scim.post(
        "/Bulk",
        bulk(
            {"method": "POST", "path": "/Widgets", "bulkId": "w", "data": {"name": "x"}},
            {"method": "POST", "path": "/Users/123", "bulkId": "p", "data": {"userName": "x"}},
            {"method": "DELETE", "path": "/Users"},
            {"method": "GET", "path": "/Users"},
            {"method": "DELETE", "path": "/Users/00000000-0000-0000-0000-000000000000"},
            {"method": "PATCH", "path": "/Users/bulkId:nowhere", "data": {"Operations": []}},
            post_user("fine", f"fine-{unique}"),
        ),
    )
    assert reply.status == 200, reply
    assert [o["status"] for o in reply.json["Operations"]] == [
        "404",
        "405",
        "405",
        "400",
        "404",
        "400",
        "201",
    ]
    for o in reply.json["Operations"][:-1]:
        assert o["response"]["schemas"] == [ERROR] and o["response"]["detail"]
    assert reply.json["Operations"][4]["location"].endswith("/Users/00000000-0000-0000-0000-000000000000")


async def test_delete_in_bulk_answers_204(scim: ScimClient, unique: str) -> None:
    created = await scim.post("/Users", {"schemas": [USER], "userName": f"gone-{unique}"})
    uid = created.json["id"]
    reply = await scim.post("/Bulk", bulk({"method": "DELETE", "path": f"/Users/{uid}", "version": 'W/"1"'}))
    assert reply.json["Operations"] == [
        {"method": "DELETE", "location": f"{scim_base(reply)}/Users/{uid}", "status": "204"}
    ]
    assert (await scim.get(f"/Users/{uid}")).status == 404


def scim_base(reply: Any) -> str:
    return str(reply.json["Operations"][0]["location"]).rsplit("/Users/", 1)[0]


async def test_too_many_operations_is_413_and_runs_nothing(scim: ScimClient, unique: str) -> None:
    spc = await scim.get("/ServiceProviderConfig")
    max_ops = spc.json["bulk"]["maxOperations"]
    ops = [post_user(f"u{i}", f"many{i}-{unique}") for i in range(max_ops + 1)]
    reply = await scim.post("/Bulk", bulk(*ops))
    assert reply.status == 413, reply
    assert reply.json["schemas"] == [ERROR] and reply.json["status"] == "413"
    listing = await scim.get("/Users", params={"filter": f'userName ew "-{unique}"'})
    assert listing.json["totalResults"] == 0


async def test_payload_over_max_payload_size_is_413_before_reading(scim: ScimClient, unique: str) -> None:
    spc = await scim.get("/ServiceProviderConfig")
    limit = spc.json["bulk"]["maxPayloadSize"]
    padding = "x" * (limit + 10)
    raw = json.dumps(bulk(post_user("u", f"big-{unique}", nickName=padding))).encode()
    reply = await scim.post("/Bulk", raw=raw)
    assert reply.status == 413, reply
    assert reply.json["status"] == "413"


async def test_chunked_payload_is_cut_off_at_max_payload_size(scim: ScimClient, unique: str) -> None:
    spc = await scim.get("/ServiceProviderConfig")
    limit = spc.json["bulk"]["maxPayloadSize"]
    head = json.dumps(bulk(post_user("u", f"chunk-{unique}")))[:-2].encode()

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        sent = len(head)
        while sent <= limit:
            yield b" " * 65536
            sent += 65536
        yield b"]}"

    reply = await scim.request("POST", "/Bulk", raw=chunks())  # type: ignore[arg-type]
    assert reply.status == 413, reply
    listing = await scim.get("/Users", params={"filter": f'userName eq "chunk-{unique}"'})
    assert listing.json["totalResults"] == 0


async def test_malformed_bulk_message_and_bad_token(scim: ScimClient) -> None:
    no_schema = await scim.post("/Bulk", {"Operations": []})
    assert no_schema.status == 400 and no_schema.json["scimType"] == "invalidSyntax"
    bad_fail = await scim.post("/Bulk", bulk(failOnErrors=0))
    assert bad_fail.status == 400 and bad_fail.json["scimType"] == "invalidValue"
    denied = await scim.post("/Bulk", bulk(post_user("x", "x")), auth="Bearer nope")
    assert denied.status == 401
    wrong_method = await scim.get("/Bulk")
    assert wrong_method.status == 405
