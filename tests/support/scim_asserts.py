"""Assertions and small steps shared by the end-to-end SCIM tests."""

from __future__ import annotations

from typing import Any

from tests.support.scim_client import ScimClient, ScimResponse

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def assert_scim_json(resp: ScimResponse) -> None:
    """RFC 7644 §3.1: every body is JSON sent as application/scim+json."""
    assert resp.headers.get("Content-Type", "").startswith("application/scim+json"), resp
    assert resp.json is not None, resp


def assert_scim_error(resp: ScimResponse, status: int, scim_type: str | None = None) -> dict[str, Any]:
    """An RFC 7644 §3.12 error body with this status (a string, as the RFC's examples show)."""
    assert resp.status == status, resp
    assert_scim_json(resp)
    body: dict[str, Any] = resp.json
    assert body["schemas"] == [ERROR_URN], body
    assert str(body["status"]) == str(status), body
    assert body["detail"], body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    assert "Traceback" not in resp.raw.decode(errors="replace"), body
    return body


def assert_list(resp: ScimResponse) -> dict[str, Any]:
    """An RFC 7644 §3.4.2 ListResponse whose counters are JSON integers (idp-clients §1.5)."""
    assert resp.status == 200, resp
    assert_scim_json(resp)
    body: dict[str, Any] = resp.json
    assert body["schemas"] == [LIST_URN], body
    for key in ("totalResults", "startIndex", "itemsPerPage"):
        assert type(body[key]) is int, (key, body)
    assert isinstance(body["Resources"], list), body
    assert body["itemsPerPage"] == len(body["Resources"]), body
    return body


def patch_op(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": list(operations)}


async def create_user(scim: ScimClient, user_name: str, **attrs: Any) -> dict[str, Any]:
    body = {"schemas": [USER_URN], "userName": user_name, "active": True, **attrs}
    resp = await scim.post("/Users", body)
    assert resp.status == 201, resp
    created: dict[str, Any] = resp.json
    return created


async def create_group(scim: ScimClient, name: str, member_ids: tuple[str, ...] = ()) -> dict[str, Any]:
    body = {"schemas": [GROUP_URN], "displayName": name, "members": [{"value": m} for m in member_ids]}
    resp = await scim.post("/Groups", body)
    assert resp.status == 201, resp
    created: dict[str, Any] = resp.json
    return created


async def member_ids(scim: ScimClient, group_id: str) -> set[str]:
    """The group's membership as the server reports it on GET."""
    resp = await scim.get(f"/Groups/{group_id}")
    assert resp.status == 200, resp
    return {m["value"] for m in resp.json.get("members") or []}


async def find(scim: ScimClient, endpoint: str, scim_filter: str, **params: str) -> dict[str, Any]:
    return assert_list(await scim.get(endpoint, params={"filter": scim_filter, **params}))
