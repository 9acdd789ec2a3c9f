"""Checklist §5 lines 10-13 of idp-clients.md: the RFC 7644 §4 discovery endpoints, per connection."""

from __future__ import annotations

import json
from typing import Any

from scimsuite.admin.v1 import admin_pb2

from tests.support.admin import Admin, Tenant
from tests.support.scim_asserts import ENTERPRISE_URN, GROUP_URN, USER_URN, assert_list, assert_scim_error
from tests.support.scim_client import ScimClient

CUSTOM_URN = "urn:ietf:params:scim:schemas:custom:Space"
CUSTOM_SCHEMA = {
    "id": CUSTOM_URN,
    "name": "Space",
    "description": "Okta externalNamespace attributes",
    "attributes": [
        {"name": "costCode", "type": "string", "multiValued": False},
        {"name": "badge", "type": "integer", "multiValued": False},
    ],
}


def _nulls(value: Any, where: str = "$") -> list[str]:
    """Paths of every JSON null in `value` (Entra rejects /Schemas bodies holding one, idp-clients §2.2)."""
    if value is None:
        return [where]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nulls(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nulls(v, f"{where}[{i}]")]
    return []


async def test_c10_service_provider_config_describes_what_is_supported(scim: ScimClient) -> None:
    resp = await scim.get("/ServiceProviderConfig")
    assert resp.status == 200, resp
    spc = resp.json
    assert spc["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert spc["patch"]["supported"] is True
    assert spc["filter"]["supported"] is True and spc["filter"]["maxResults"] > 0
    assert isinstance(spc["bulk"]["supported"], bool)
    assert spc["bulk"]["maxOperations"] > 0 and spc["bulk"]["maxPayloadSize"] > 0
    assert spc["changePassword"]["supported"] is False  # the password Okta sends is never stored
    assert spc["sort"]["supported"] is True and spc["etag"]["supported"] is True
    scheme = spc["authenticationSchemes"][0]
    assert scheme["type"] == "oauthbearertoken" and scheme["description"] and scheme["name"]
    assert not _nulls(spc)


async def test_c11_resource_types_list_users_first(scim: ScimClient) -> None:
    body = assert_list(await scim.get("/ResourceTypes"))
    first = body["Resources"][0]
    assert first["endpoint"] == "/Users" and first["name"] == "User" and first["schema"] == USER_URN
    assert {r["name"]: r["endpoint"] for r in body["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    assert ENTERPRISE_URN in {e["schema"] for e in first["schemaExtensions"]}
    one = await scim.get("/ResourceTypes/Group")
    assert one.status == 200 and one.json["schema"] == GROUP_URN
    assert_scim_error(await scim.get("/ResourceTypes/Device"), 404)


async def test_c12_schemas_list_every_schema_without_nulls(scim: ScimClient) -> None:
    body = assert_list(await scim.get("/Schemas"))
    by_id = {s["id"]: s for s in body["Resources"]}
    assert set(by_id) == {USER_URN, GROUP_URN, ENTERPRISE_URN}
    assert not _nulls(body)
    assert by_id[USER_URN]["description"] == "User Account"  # Microsoft's Postman suite looks for it
    # Entra's default mappings (idp-clients §2.4) must all be discoverable.
    user_attrs = {a["name"]: a for a in by_id[USER_URN]["attributes"]}
    for name in ("userName", "active", "displayName", "emails", "name", "title", "phoneNumbers", "addresses"):
        assert name in user_attrs, name
    assert {s["name"] for s in user_attrs["emails"]["subAttributes"]} >= {"value", "type", "primary"}
    assert {s["name"] for s in user_attrs["name"]["subAttributes"]} >= {"givenName", "familyName"}
    enterprise = {a["name"] for a in by_id[ENTERPRISE_URN]["attributes"]}
    assert enterprise >= {"employeeNumber", "department", "manager"}
    one = await scim.get(f"/Schemas/{GROUP_URN}")
    assert one.status == 200 and one.json["id"] == GROUP_URN


async def test_c12_a_workspace_custom_extension_is_discoverable(
    scim: ScimClient, admin: Admin, store_tenant: Tenant
) -> None:
    await admin.directory.SetCustomSchema(
        admin_pb2.SetCustomSchemaRequest(
            workspace=store_tenant.workspace_id,
            portal=store_tenant.portal,
            schema_json=json.dumps(CUSTOM_SCHEMA).encode(),
        ),
        metadata=admin.md,
    )
    schemas = {s["id"]: s for s in assert_list(await scim.get("/Schemas"))["Resources"]}
    assert {a["name"] for a in schemas[CUSTOM_URN]["attributes"]} == {"costCode", "badge"}
    assert not _nulls(schemas[CUSTOM_URN])
    user_type = (await scim.get("/ResourceTypes/User")).json
    assert CUSTOM_URN in {e["schema"] for e in user_type["schemaExtensions"]}


async def test_c13_writes_to_discovery_endpoints_are_405_before_parsing_or_auth(scim: ScimClient) -> None:
    for path in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas", f"/Schemas/{USER_URN}"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            # Okta's 2016 SPEC test POSTs the non-JSON body "test" (idp-clients §1.11).
            resp = await scim.request(method, path, raw=b"test", headers={"Content-Type": "application/json"})
            assert_scim_error(resp, 405)
            unauthenticated = await scim.request(method, path, raw=b"test", auth="")
            assert_scim_error(unauthenticated, 405)
