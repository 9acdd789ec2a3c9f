"""Per-IdP compatibility profiles (issue 11, README "Profiles"): Okta and Entra payloads replayed under
each profile a connection can have.

Input is accepted the same way in every profile and reads back the same; what differs is only what the
IdPs document differently: the answer to PATCH (200 with the resource for Okta and `generic`, 204 for
Entra, as Microsoft's reference server answers). In `auto`, the IdP is recognised from the request and
recorded on the connection.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.support.admin import Admin
from tests.support.payloads import payload
from tests.support.scim_asserts import ENTERPRISE_URN, assert_list, member_ids, patch_op
from tests.support.scim_client import ScimClient, ScimResponse
from tests.support.scimctl import scimctl
from tests.support.stack import Stack

PROFILES = ("auto", "okta", "entra", "generic")
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
OKTA = {"User-Agent": "Okta SCIM Client 1.0.0", "Accept-Charset": "utf-8"}
# Entra documents no User-Agent (idp-clients §2.2); aiohttp's own says nothing about the IdP.
ENTRA: dict[str, str] = {}


@pytest.fixture(params=PROFILES)
async def profiled(request: Any, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str) -> Any:
    tenant = await admin.enable(f"prof-{request.param}-{unique}", "store")
    if request.param != "auto":
        await admin.set_profile(tenant, request.param)
    return request.param, tenant, ScimClient(http, stack.edge_url, tenant)


def _answers_patch(resp: ScimResponse, with_body: bool, rid: str) -> None:
    if with_body:
        assert resp.status == 200 and resp.json["id"] == rid, resp
        assert resp.headers["ETag"] == resp.json["meta"]["version"]
    else:
        assert resp.status == 204 and resp.raw == b"" and resp.headers["ETag"].startswith('W/"'), resp


async def test_okta_replay_under_each_profile(profiled: Any, admin: Admin, unique: str) -> None:
    profile, tenant, scim = profiled
    body_expected = profile != "entra"  # auto answers the Okta client as Okta

    async def send(method: str, path: str, body: Any = None) -> ScimResponse:
        return await scim.request(method, path, body, headers=OKTA)

    email = f"okta-{unique}@okta.local"
    assert_list(await send("GET", f'/Users?filter=userName eq "{email}"&startIndex=1&count=100'))
    created = await send("POST", "/Users", payload("okta-1.4-create-user", {"test.user@okta.local": email}))
    assert created.status == 201 and created.json["active"] is True, created
    uid = created.json["id"]

    _answers_patch(await send("PATCH", f"/Users/{uid}", payload("okta-1.7-deactivate")), body_expected, uid)
    assert (await send("GET", f"/Users/{uid}")).json["active"] is False
    _answers_patch(await send("PATCH", f"/Users/{uid}", payload("okta-1.7-reactivate")), body_expected, uid)
    put = payload(
        "okta-1.6-put-user", {"23a35c27-23d3-4c03-b4c5-6443c09e7173": uid, "test.user@okta.local": email}
    )
    replaced = await send("PUT", f"/Users/{uid}", put)
    assert replaced.status == 200 and replaced.json["name"]["middleName"] == "Excited", replaced

    group = await send("POST", "/Groups", payload("okta-1.8-create-group", {"Test SCIMv2": f"okta {unique}"}))
    assert group.status == 201, group
    gid = group.json["id"]
    push = payload(
        "okta-1.8-membership-remove-add",
        {"23a35c27-23d3-4c03-b4c5-6443c09e7173": uid, "89bb1940-b905-4575-9e7f-6f887cfb368e": "not-a-member"},
    )
    _answers_patch(await send("PATCH", f"/Groups/{gid}", push), body_expected, gid)
    assert await member_ids(scim, gid) == {uid}
    members = (await send("GET", f"/Groups/{gid}")).json["members"]
    assert [m.get("display") for m in members] == ["test.user@okta.local"]  # as Okta sent it

    connection = await admin.connection(tenant)
    assert connection.profile == profile and connection.detected_idp == "okta"
    # The edge's metrics carry the recognised IdP and the profile that answered (bounded label sets).
    answered = "okta" if profile == "auto" else profile
    async with scim.session.get(scim.base.split("/scim/v2/")[0] + "/metrics") as resp:
        exposition = await resp.text()
    assert f'scim_requests_by_idp_total{{idp="okta",profile="{answered}"}}' in exposition


async def test_entra_replay_under_each_profile(profiled: Any, admin: Admin, unique: str) -> None:
    profile, tenant, scim = profiled

    async def send(method: str, path: str, body: Any = None) -> ScimResponse:
        return await scim.request(method, path, body, headers=ENTRA)

    user_name = f"Test_User_{unique}"
    assert_list(await send("GET", f'/Users?filter=userName eq "{user_name}"'))
    created = await send(
        "POST",
        "/Users",
        payload("entra-2.4-create-user", {"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee": user_name}),
    )
    assert created.status == 201, created
    uid = created.json["id"]
    # Nothing so far told Entra apart: in auto the answer is the generic one.
    body_expected = profile in ("okta", "generic", "auto")
    _answers_patch(
        await send("PATCH", f"/Users/{uid}", payload("entra-2.5-multi-replace")), body_expected, uid
    )
    got = (await send("GET", f"/Users/{uid}")).json
    assert got["displayName"] == "Pvlo" and got[ENTERPRISE_URN]["employeeNumber"] == "Eqpj"

    # Entra's group create carries Microsoft's ADSCIM schema: from now on auto answers as Entra.
    group_body = payload("entra-2.8-create-group") | {"displayName": f"entra {unique}"}
    group = await send("POST", "/Groups", group_body)
    assert group.status == 201, group
    gid = group.json["id"]
    body_expected = profile in ("okta", "generic")
    add = payload("entra-2.8-add-members", {"f648f8d5ea4e4cd38e9c": uid})
    _answers_patch(await send("PATCH", f"/Groups/{gid}", add), body_expected, gid)
    assert await member_ids(scim, gid) == {uid}
    members = (await send("GET", f"/Groups/{gid}")).json["members"]
    assert [sorted(m) for m in members] == [["$ref", "value"]]  # Entra sent no display; none is invented

    _answers_patch(await send("PATCH", f"/Users/{uid}", payload("entra-2.6-disable")), body_expected, uid)
    assert (await send("GET", f"/Users/{uid}")).json["active"] is False
    remove = payload("entra-2.8-remove-members", {"f648f8d5ea4e4cd38e9c": uid})
    _answers_patch(await send("PATCH", f"/Groups/{gid}", remove), body_expected, gid)
    assert await member_ids(scim, gid) == set()

    # Asking for attributes always gets the resource back (RFC 7644 §3.5.2), Entra profile included.
    asked = await send("PATCH", f"/Users/{uid}?attributes=active", payload("entra-2.6-disable"))
    assert asked.status == 200 and asked.json["active"] is False, asked

    connection = await admin.connection(tenant)
    assert connection.profile == profile and connection.detected_idp == "entra"


async def test_validation_and_isolation_are_the_same_in_every_profile(profiled: Any, admin: Admin) -> None:
    """No profile weakens a check: the same bad input is refused, and a token reaches only its tenant."""
    _, tenant, scim = profiled
    missing = await scim.post(
        "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}, headers=OKTA
    )
    assert missing.status == 400 and missing.json["schemas"] == [ERROR], missing
    user = await scim.post("/Users", {"userName": f"v-{tenant.workspace}"}, headers=OKTA)
    uid = user.json["id"]
    for client in (OKTA, {"User-Agent": "Azure AD"}):
        junk = await scim.request(
            "PATCH", f"/Users/{uid}", patch_op({"op": "jump", "path": "title"}), headers=client
        )
        assert junk.status == 400 and junk.json["schemas"] == [ERROR], junk
        typed = await scim.request(
            "PATCH",
            f"/Users/{uid}",
            patch_op({"op": "replace", "path": "active", "value": "maybe"}),
            headers=client,
        )
        assert typed.status == 400 and typed.json["scimType"] == "invalidValue", typed
    other = await admin.enable(f"prof-other-{tenant.workspace}", "store")
    as_other = await scim.request("GET", f"/Users/{uid}", auth=f"Bearer {other.token}", headers=OKTA)
    assert as_other.status == 401, as_other


async def test_scimctl_pins_and_unpins_the_profile(stack: Stack, admin: Admin, unique: str) -> None:
    ws = f"prof-cli-{unique}"
    enabled = await scimctl(stack, "workspace", "create", ws)
    assert enabled.code == 0, enabled
    on = await scimctl(stack, "scim", "enable", "--workspace", ws, "--portal", "store", "--profile", "entra")
    assert on.code == 0 and on.out["profile"] == "entra", on
    back = await scimctl(
        stack, "scim", "configure", "--workspace", ws, "--portal", "store", "--profile", "auto"
    )
    assert back.code == 0 and back.out["profile"] == "auto", back
    status = await scimctl(stack, "scim", "status", "--workspace", ws)
    assert [c["profile"] for c in status.out["connections"]] == ["auto"], status
    refused = await scimctl(
        stack, "scim", "configure", "--workspace", ws, "--portal", "store", "--profile", "x"
    )
    assert refused.code == 2 and "profile" in refused.out["error"], refused
