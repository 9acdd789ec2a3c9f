"""Okta's "SCIM 2.0 SPEC Test" (Runscope), replayed step by step against the live edge (idp-clients §1.11).

The 2024 export's eleven steps run in order, with its headers and its assertions; the 2016 export's optional
steps (discovery, writes to discovery endpoints, groups, the operator-less "case sensitivity" filter) follow.
Runscope compares with string equality, so `status` may be "404" or 404; our bodies carry strings.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.support.scim_asserts import ERROR_URN, LIST_URN, USER_URN, create_group, create_user
from tests.support.scim_client import ScimClient, ScimResponse

# The headers on the SPEC test's GET steps, Content-Type included although there is no body.
GET_HEADERS = {
    "Accept-Charset": "utf-8",
    "Content-Type": "application/scim+json; charset=utf-8",
    "Accept": "application/scim+json",
    "User-Agent": "OKTA SCIM Integration",
}
POST_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/scim+json; charset=utf-8",
    "User-Agent": "OKTA SCIM Integration",
}
# Okta's 2016 export asserted response times of 400-600 ms; a shared CI machine gets some headroom.
STEP_BUDGET_S = 1.5


async def _step(scim: ScimClient, method: str, path: str, body: Any = None, **kw: Any) -> ScimResponse:
    started = time.monotonic()
    resp = await scim.request(method, path, body, **kw)
    assert time.monotonic() - started < STEP_BUDGET_S, (method, path)
    return resp


def _has_user_fields(user: dict[str, Any]) -> None:
    assert user["id"] and user["userName"] and str(user["active"]) in ("True", "False")
    assert user["name"]["familyName"] and user["name"]["givenName"] and user["emails"][0]["value"]


async def test_okta_spec_test_2024(scim: ScimClient, unique: str) -> None:
    # "Create at least one user in the server first."
    await create_user(
        scim,
        f"seed-{unique}@example.com",
        name={"givenName": "Seed", "familyName": "User"},
        emails=[{"value": f"seed-{unique}@example.com", "primary": True, "type": "work"}],
    )
    random_email = f"runscope{unique}@example.com"  # Okta's initial script: randomUsername == randomEmail
    given, family = f"Given{unique}", f"Family{unique}"

    # 1. Required: GET Users; saves ISVUserid.
    resp = await _step(scim, "GET", "/Users?count=1&startIndex=1", headers=GET_HEADERS)
    assert resp.status == 200
    body = resp.json
    assert body["Resources"] and LIST_URN in body["schemas"]
    assert all(isinstance(body[k], int) for k in ("itemsPerPage", "startIndex", "totalResults"))
    _has_user_fields(body["Resources"][0])
    isv_user_id = body["Resources"][0]["id"]

    # 2. Required: GET User by id.
    resp = await _step(scim, "GET", f"/Users/{isv_user_id}", headers=GET_HEADERS)
    assert resp.status == 200 and resp.json["id"] == isv_user_id
    _has_user_fields(resp.json)

    # 3. Required: a filter for an invalid email finds nothing.
    resp = await _step(
        scim,
        "GET",
        '/Users?filter=userName eq "invalid-{uuid}@example.com"'.replace("{uuid}", str(uuid.uuid4())),
        headers=GET_HEADERS,
    )
    assert resp.status == 200 and LIST_URN in resp.json["schemas"] and str(resp.json["totalResults"]) == "0"

    # 4. Required: an unknown id is a 404 error.
    resp = await _step(scim, "GET", "/Users/010101001010101011001010101011", headers=GET_HEADERS)
    assert resp.status == 404 and resp.json["detail"] and ERROR_URN in resp.json["schemas"]

    # 5. Required: the user about to be created does not exist yet.
    resp = await _step(scim, "GET", f'/Users?filter=userName eq "{random_email}"', headers=GET_HEADERS)
    assert resp.status == 200 and resp.json["totalResults"] == 0 and LIST_URN in resp.json["schemas"]

    # 6. Required: create the user, sent as application/json.
    create = {
        "schemas": [USER_URN],
        "userName": random_email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": random_email, "type": "work"}],
        "displayName": f"{given} {family}",
        "active": True,
    }
    resp = await _step(scim, "POST", "/Users", create, headers=POST_HEADERS)
    assert resp.status == 201, resp
    created = resp.json
    assert str(created["active"]).lower() == "true" and created["id"] and USER_URN in created["schemas"]
    assert (
        created["name"] == {"givenName": given, "familyName": family} and created["userName"] == random_email
    )
    id_user_one = created["id"]
    assert created["emails"][0]["value"] == random_email

    # 7. Required: read it back.
    resp = await _step(scim, "GET", f"/Users/{id_user_one}", headers=GET_HEADERS)
    assert resp.status == 200 and resp.json["userName"] == random_email
    assert resp.json["name"]["givenName"] == given and resp.json["name"]["familyName"] == family

    # 8. Required: the same POST again is a conflict.
    resp = await _step(scim, "POST", "/Users", create, headers=POST_HEADERS)
    assert resp.status == 409, resp

    # 9. Required: the filter with the userName in capitals still answers 200.
    resp = await _step(
        scim, "GET", f'/Users?filter=userName eq "{random_email.upper()}"', headers=GET_HEADERS
    )
    assert resp.status == 200 and resp.json["totalResults"] == 1

    # 10. Required: a bad credential is a 401 error body.
    resp = await _step(
        scim,
        "GET",
        f'/Users?filter=userName eq "{random_email.upper()}"',
        headers=GET_HEADERS,
        auth="non-token",
    )
    assert resp.status == 401 and resp.json["detail"] and resp.json["status"] == "401"
    assert ERROR_URN in resp.json["schemas"]

    # 11. Required: another unknown id, with status in the body.
    resp = await _step(scim, "GET", "/Users/00919288221112222", headers=GET_HEADERS)
    assert resp.status == 404 and resp.json["detail"] and resp.json["status"] == "404"
    assert ERROR_URN in resp.json["schemas"]


async def test_okta_spec_test_2016_optional_steps(scim: ScimClient, unique: str) -> None:
    user = await create_user(scim, f"RunScope{unique}@example.com")
    await create_group(scim, f"Runscope Group {unique}", (user["id"],))

    resp = await _step(scim, "GET", "/ServiceProviderConfig", headers=GET_HEADERS)
    assert resp.status == 200
    spc = resp.json
    for key in ("patch", "bulk", "changePassword", "sort", "etag"):
        assert spc[key], key
    assert spc["bulk"]["maxOperations"] and spc["bulk"]["maxPayloadSize"] and spc["filter"]["maxResults"]
    assert spc["authenticationSchemes"][0]["type"] and spc["authenticationSchemes"][0]["description"]

    for endpoint in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas"):
        resp = await _step(scim, "POST", endpoint, raw=b"test", headers=POST_HEADERS)
        assert resp.status == 405, (endpoint, resp)

    resp = await _step(scim, "GET", "/ResourceTypes", headers=GET_HEADERS)
    first = resp.json["Resources"][0]
    assert resp.status == 200 and first["name"] and first["endpoint"] and first["schema"]

    resp = await _step(scim, "GET", "/Schemas", headers=GET_HEADERS)
    assert resp.status == 200 and resp.json["Resources"][0]["id"] and resp.json["Resources"][0]["attributes"]

    resp = await _step(scim, "GET", "/Groups", headers=GET_HEADERS)
    assert resp.status == 200 and resp.json["totalResults"] >= 1 and isinstance(resp.json["Resources"], list)

    # "Case sensitivity": a filter that is only a value, without attribute or operator, is a 400.
    resp = await _step(
        scim, "GET", f"/Users?filter=RUNSCOPE{unique.upper()}@EXAMPLE.COM", headers=GET_HEADERS
    )
    assert resp.status == 400 and resp.json["scimType"] == "invalidFilter"

    # The 2016 "Test API Credentials" pair.
    assert (await _step(scim, "GET", "/Users?count=2&startIndex=1", headers=GET_HEADERS)).status == 200
    assert (await _step(scim, "GET", "/Groups?count=100&startIndex=1", headers=GET_HEADERS)).status == 200
