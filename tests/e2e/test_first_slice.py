"""The walking skeleton's first slice: Okta's create-user conversation, through to a Store employee."""

from __future__ import annotations

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.scim_client import ScimClient

OKTA_HEADERS = {"User-Agent": "Okta SCIM Client 1.0.0"}


async def test_okta_create_user_becomes_store_employee(
    scim: ScimClient, admin: Admin, store_tenant: Tenant
) -> None:
    user_name = "test.user@okta.local"
    lookup = await scim.get(
        "/Users",
        params={"filter": f'userName eq "{user_name}"', "startIndex": "1", "count": "100"},
        headers=OKTA_HEADERS,
    )
    assert lookup.status == 200, lookup
    assert lookup.headers["Content-Type"].startswith("application/scim+json")
    assert lookup.json == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }

    created = await scim.post(
        "/Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": True, "value": user_name, "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
        },
        headers=OKTA_HEADERS,
    )
    assert created.status == 201, created
    body = created.json
    assert body["id"] and body["userName"] == user_name and body["active"] is True
    assert "password" not in body
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["location"].endswith(f"/Users/{body['id']}")

    found = await scim.get("/Users", params={"filter": f'userName eq "{user_name.upper()}"'})
    assert found.json["totalResults"] == 1 and found.json["Resources"][0]["id"] == body["id"]

    async def employee_exists() -> None:
        accounts = await admin.accounts(store_tenant)
        assert accounts.get(user_name, {}).get("status") == "active", accounts

    await assert_eventually(employee_exists)
    entries = await admin.audit(store_tenant, user_name)
    assert [e.action for e in entries] == ["create-employee"]
    assert entries[0].request_id  # the audit names the SCIM request that caused it


async def test_bad_input_gets_scim_errors_and_writes_nothing(scim: ScimClient) -> None:
    bad_json = await scim.post("/Users", raw=b'{"userName": ')
    assert bad_json.status == 400 and bad_json.json["scimType"] == "invalidSyntax"
    assert bad_json.headers["Content-Type"].startswith("application/scim+json")

    no_token = await scim.get("/Users", auth="Bearer not-a-token")
    assert no_token.status == 401
    assert no_token.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert no_token.json["status"] == "401" and no_token.json["detail"]

    missing_user_name = await scim.post("/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})
    assert missing_user_name.status == 400

    listing = await scim.get("/Users")
    assert listing.json["totalResults"] == 0
