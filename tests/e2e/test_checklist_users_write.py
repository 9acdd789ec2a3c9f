"""Checklist §5 lines 25-38 of idp-clients.md: creating, reading and replacing Users (RFC 7644 §3.3, §3.4.1,
§3.5.1), plus versioning with ETags (RFC 7644 §3.14) and DELETE (§3.6)."""

from __future__ import annotations

import json

from scimsuite.admin.v1 import admin_pb2

from tests.support.admin import Admin, Tenant
from tests.support.payloads import payload
from tests.support.scim_asserts import (
    ENTERPRISE_URN,
    USER_URN,
    assert_list,
    assert_scim_error,
    create_user,
    find,
)
from tests.support.scim_client import ScimClient

CUSTOM_URN = "urn:ietf:params:scim:schemas:custom:Space"


async def test_c25_okta_create_body(scim: ScimClient) -> None:
    body = payload("okta-1.4-create-user")
    resp = await scim.post("/Users", body)
    assert resp.status == 201, resp
    user = resp.json
    assert user["id"] and user["userName"] == body["userName"] and user["active"] is True
    assert user["name"] == body["name"] and user["externalId"] == body["externalId"]
    assert user["locale"] == "en-US" and USER_URN in user["schemas"]
    assert user["meta"]["resourceType"] == "User"
    assert resp.headers["Location"] == user["meta"]["location"]
    assert resp.headers["ETag"] == user["meta"]["version"]
    assert "password" not in user and "password" not in json.dumps(user)


async def test_c26_entra_create_body(scim: ScimClient) -> None:
    body = payload("entra-2.4-create-user")
    resp = await scim.post("/Users", body)
    assert resp.status == 201, resp
    user = resp.json
    assert user["name"]["formatted"] == "givenName familyName" and user["externalId"] == body["externalId"]
    assert user["emails"] == body["emails"]
    # The enterprise URN was listed without an extension object: there is nothing to report under it.
    assert ENTERPRISE_URN not in user and "roles" not in user


async def test_c27_explicit_nulls_are_absent_and_a_malformed_urn_is_tolerated(scim: ScimClient) -> None:
    resp = await scim.post("/Users", payload("entra-2.4-create-user-example2"))
    assert resp.status == 201, resp
    user = resp.json
    for name in ("title", "addresses", "phoneNumbers", "preferredLanguage", "department", "manager"):
        assert name not in user, name
    assert user["userName"] == "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"


async def test_c28_active_as_the_string_true_is_stored_as_a_boolean(scim: ScimClient) -> None:
    resp = await scim.post("/Users", payload("entra-2.6-active-string-post"))
    assert resp.status == 201 and resp.json["active"] is True, resp
    stored = await scim.get(f"/Users/{resp.json['id']}")
    assert stored.json["active"] is True
    off = await scim.post("/Users", {"userName": "emp2@contoso.com", "active": "FALSE"})
    assert off.status == 201 and off.json["active"] is False, off


async def test_c29_capitalised_keys_are_accepted(scim: ScimClient) -> None:
    resp = await scim.post("/Users", payload("entra-2.11-postman-capitalized-user"))
    assert resp.status == 201, resp
    user = resp.json
    assert user["userName"] == "UserName123" and user["displayName"] == "BobIsAmazing"
    assert user["name"] == {"familyName": "Employee", "givenName": "Bob"}
    assert [e["primary"] for e in user["emails"]] == [True, False]  # RFC 7643 §2.4: one primary at most
    assert user[ENTERPRISE_URN]["department"] == "Tour Operations"
    assert user[ENTERPRISE_URN]["manager"]["value"] == "OyXPBVrCA7rL"


async def test_c30_duplicate_user_name_is_409_uniqueness(scim: ScimClient, unique: str) -> None:
    await create_user(scim, f"dup-{unique}")
    body = assert_scim_error(await scim.post("/Users", {"userName": f"dup-{unique}"}), 409, "uniqueness")
    assert f"dup-{unique}" in body["detail"]
    assert (await find(scim, "/Users", f'userName eq "dup-{unique}"'))["totalResults"] == 1


async def test_c31_missing_user_name_or_junk_json_is_400_and_writes_nothing(scim: ScimClient) -> None:
    assert_scim_error(await scim.post("/Users", {"schemas": [USER_URN], "displayName": "No Name"}), 400)
    assert_scim_error(await scim.post("/Users", raw=b'{"userName": "x",'), 400, "invalidSyntax")
    assert_scim_error(await scim.post("/Users", raw=b"[1, 2]"), 400, "invalidSyntax")
    assert_scim_error(await scim.post("/Users", raw=b""), 400, "invalidSyntax")
    assert_scim_error(await scim.post("/Users", {"userName": "x", "active": "maybe"}), 400, "invalidValue")
    assert assert_list(await scim.get("/Users"))["totalResults"] == 0


async def test_c32_create_returns_the_resource_with_a_stable_id(scim: ScimClient, unique: str) -> None:
    resp = await scim.post("/Users", {"userName": f"stable-{unique}", "bulkId": "qwerty"})
    assert resp.status == 201 and resp.raw, resp
    user = resp.json
    assert isinstance(user["id"], str) and user["id"] and "bulkId" not in user
    again = await scim.get(f"/Users/{user['id']}")
    assert again.json["id"] == user["id"] and again.json["meta"]["created"] == user["meta"]["created"]


async def test_c33_unknown_user_id_is_404(scim: ScimClient) -> None:
    for rid in (
        "00919288221112222",
        "010101001010101011001010101011",
        "5b50642d-79fc-4410-9e90-4c077cdd1a59",
    ):
        body = assert_scim_error(await scim.get(f"/Users/{rid}"), 404)
        assert body["status"] == "404"


async def test_c34_custom_and_enterprise_extensions_round_trip(
    scim: ScimClient, admin: Admin, store_tenant: Tenant, unique: str
) -> None:
    await admin.directory.SetCustomSchema(
        admin_pb2.SetCustomSchemaRequest(
            workspace=store_tenant.workspace_id,
            portal=store_tenant.portal,
            schema_json=json.dumps(
                {"id": CUSTOM_URN, "name": "Space", "attributes": [{"name": "costCode", "type": "string"}]}
            ).encode(),
        ),
        metadata=admin.md,
    )
    undeclared = "urn:ietf:params:scim:schemas:custom:Undeclared"
    resp = await scim.post(
        "/Users",
        {
            "schemas": [USER_URN, ENTERPRISE_URN, CUSTOM_URN, undeclared],
            "userName": f"ext-{unique}",
            ENTERPRISE_URN: {"department": "Sales", "manager": "boss-id"},
            CUSTOM_URN: {"costCode": "CC-1"},
            undeclared: {"anything": ["a", 1]},
        },
    )
    assert resp.status == 201, resp
    got = (await scim.get(f"/Users/{resp.json['id']}")).json
    assert got[ENTERPRISE_URN]["department"] == "Sales"
    assert got[ENTERPRISE_URN]["manager"]["value"] == "boss-id"  # returned in the RFC complex form
    assert got[CUSTOM_URN] == {"costCode": "CC-1"} and got[undeclared] == {"anything": ["a", 1]}
    assert {ENTERPRISE_URN, CUSTOM_URN, undeclared} <= set(got["schemas"])
    assert (await find(scim, "/Users", f'{CUSTOM_URN}:costCode eq "CC-1"'))["totalResults"] == 1


async def test_c35_okta_put_echoing_read_only_fields(scim: ScimClient) -> None:
    created = (await scim.post("/Users", payload("okta-1.4-create-user"))).json
    body = payload("okta-1.6-put-user", {"23a35c27-23d3-4c03-b4c5-6443c09e7173": created["id"]})
    body["meta"] = {"resourceType": "User", "created": "1999-01-01T00:00:00Z", "version": 'W/"999"'}
    body["groups"] = [{"value": "not-a-group"}]
    resp = await scim.put(f"/Users/{created['id']}", body)
    assert resp.status == 200, resp
    user = resp.json
    assert user["name"]["middleName"] == "Excited" and user["name"]["givenName"] == "Another"
    assert user["meta"]["created"] == created["meta"]["created"] and user["groups"] == []
    assert user["id"] == created["id"] and user["meta"]["version"] != created["meta"]["version"]


async def test_c36_put_active_false_deactivates_and_true_reactivates(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"aiw-{unique}", displayName="AIW User")
    current = (await scim.get(f"/Users/{user['id']}")).json
    off = await scim.put(f"/Users/{user['id']}", {**current, "active": False})
    assert off.status == 200 and off.json["active"] is False, off
    assert (await scim.get(f"/Users/{user['id']}")).json["active"] is False
    kept = await scim.put(f"/Users/{user['id']}", {"userName": f"aiw-{unique}"})
    assert kept.json["active"] is False  # a PUT that omits `active` does not reactivate
    on = await scim.put(f"/Users/{user['id']}", {**current, "active": True})
    assert on.status == 200 and on.json["active"] is True, on


async def test_c37_put_replaces_the_whole_resource_and_ignores_unknown_names(
    scim: ScimClient, unique: str
) -> None:
    user = await create_user(
        scim, f"full-{unique}", title="Boss", nickName="B", **{ENTERPRISE_URN: {"department": "Ops"}}
    )
    resp = await scim.put(
        f"/Users/{user['id']}",
        {"userName": f"full-{unique}", "nickNmae": "typo", "displayName": "Full Replace"},
    )
    assert resp.status == 200, resp
    got = (await scim.get(f"/Users/{user['id']}")).json
    assert got["displayName"] == "Full Replace"
    for gone in ("title", "nickName", "nickNmae", ENTERPRISE_URN):
        assert gone not in got, gone
    assert_scim_error(await scim.put(f"/Users/{user['id']}", {"displayName": "no userName"}), 400)
    assert_scim_error(await scim.put("/Users/00919288221112222", {"userName": "x"}), 404)


async def test_c38_get_after_put_returns_everything_stored(scim: ScimClient, unique: str) -> None:
    body = {
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": f"lossless-{unique}",
        "active": True,
        "name": {"givenName": "L", "familyName": "L", "middleName": "M"},
        "title": "T",
        "locale": "fr-FR",
        "emails": [{"value": "l@example.com", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": "+1 555", "type": "mobile"}],
        ENTERPRISE_URN: {"employeeNumber": "42"},
    }
    created = (await scim.post("/Users", body)).json
    read = (await scim.get(f"/Users/{created['id']}")).json
    # Okta's next GET->PUT is lossless: PUT what was read, and read it back unchanged.
    replaced = await scim.put(f"/Users/{created['id']}", read)
    assert replaced.status == 200, replaced
    again = (await scim.get(f"/Users/{created['id']}")).json
    for key, value in body.items():
        if key != "schemas":
            assert again[key] == value, key
    assert {k: v for k, v in again.items() if k != "meta"} == {k: v for k, v in read.items() if k != "meta"}


async def test_if_match_mismatch_is_412_and_if_none_match_is_304(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"etag-{unique}")
    etag = user["meta"]["version"]
    stale = await scim.put(
        f"/Users/{user['id']}", {"userName": f"etag-{unique}", "title": "x"}, headers={"If-Match": 'W/"999"'}
    )
    assert_scim_error(stale, 412)
    assert "title" not in (await scim.get(f"/Users/{user['id']}")).json
    fresh = await scim.put(
        f"/Users/{user['id']}", {"userName": f"etag-{unique}", "title": "x"}, headers={"If-Match": etag}
    )
    assert fresh.status == 200 and fresh.headers["ETag"] != etag, fresh
    assert_scim_error(await scim.delete(f"/Users/{user['id']}", headers={"If-Match": etag}), 412)
    unchanged = await scim.get(f"/Users/{user['id']}", headers={"If-None-Match": fresh.headers["ETag"]})
    assert unchanged.status == 304 and not unchanged.raw
    changed = await scim.get(f"/Users/{user['id']}", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.json["title"] == "x"


async def test_delete_user_is_204_then_gone(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"del-{unique}")
    resp = await scim.delete(f"/Users/{user['id']}")
    assert resp.status == 204 and resp.raw == b"", resp
    assert_scim_error(await scim.get(f"/Users/{user['id']}"), 404)
    assert (await find(scim, "/Users", f'userName eq "del-{unique}"'))["totalResults"] == 0
    assert_scim_error(await scim.delete(f"/Users/{user['id']}"), 404)
