"""SCIM connections: tokens shown once and stored hashed, rotation with overlap, revocation, disabling,
and isolation: a token reaches exactly its own workspace and portal."""

from __future__ import annotations

import hashlib
import time

import aiohttp
import asyncpg
import pytest
from scimsuite.admin.v1 import admin_pb2

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import Okta
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack


async def _status(http: aiohttp.ClientSession, stack: Stack, tenant: Tenant, token: str) -> int:
    scim = ScimClient(http, stack.edge_url, tenant)
    return (await scim.get("/Users", auth=f"Bearer {token}")).status


async def _rotate(admin: Admin, tenant: Tenant, overlap_seconds: int) -> str:
    creds = await admin.directory.RotateToken(
        admin_pb2.RotateTokenRequest(
            workspace=tenant.workspace_id, portal=tenant.portal, overlap_seconds=overlap_seconds
        ),
        metadata=admin.md,
    )
    assert creds.base_url == tenant.base_url
    return str(creds.token)


async def test_token_is_stored_only_as_its_hash(admin: Admin, database_url: str, unique: str) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store")
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT * FROM directory.tokens WHERE connection_id = $1", tenant.connection_id
        )
    finally:
        await conn.close()
    assert len(rows) == 1
    assert bytes(rows[0]["token_hash"]) == hashlib.sha256(tenant.token.encode()).digest()
    assert all(tenant.token not in str(value) for value in rows[0].values())


async def test_rotation_keeps_the_old_token_for_the_overlap_only(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store")
    overlap = 2
    rotated_at = time.monotonic()
    new = await _rotate(admin, tenant, overlap)
    assert new != tenant.token
    assert await _status(http, stack, tenant, new) == 200
    assert await _status(http, stack, tenant, tenant.token) == 200
    assert time.monotonic() - rotated_at < overlap  # the old token was still inside its overlap

    async def old_token_stopped() -> None:
        assert await _status(http, stack, tenant, tenant.token) == 401

    await assert_eventually(old_token_stopped, timeout=overlap + 10)
    assert time.monotonic() - rotated_at >= overlap - 0.5
    assert await _status(http, stack, tenant, new) == 200


async def test_rotation_without_overlap_and_revocation_stop_tokens_at_once(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store")
    new = await _rotate(admin, tenant, 0)
    assert await _status(http, stack, tenant, tenant.token) == 401
    assert await _status(http, stack, tenant, new) == 200

    revoked = await admin.directory.RevokeTokens(
        admin_pb2.RevokeTokensRequest(workspace=tenant.workspace_id, portal="store"), metadata=admin.md
    )
    assert revoked.revoked == 1
    assert await _status(http, stack, tenant, new) == 401


async def test_disabling_cuts_access_at_once_and_enabling_again_issues_a_fresh_token(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store")
    assert await _status(http, stack, tenant, tenant.token) == 200
    await admin.directory.DisableScim(
        admin_pb2.DisableScimRequest(workspace=tenant.workspace_id, portal="store"), metadata=admin.md
    )
    assert await _status(http, stack, tenant, tenant.token) == 401

    again = await admin.enable(f"ws-{unique}", "store")
    assert again.base_url == tenant.base_url
    assert await _status(http, stack, again, again.token) == 200
    assert await _status(http, stack, tenant, tenant.token) == 401  # the old token stays dead


async def _two_connections(admin: Admin, unique: str, other_portal: str) -> tuple[Tenant, Tenant]:
    """A's Store, and B: another workspace's Store, or the same workspace's Dashboard."""
    a = await admin.enable(f"ws-a-{unique}", "store")
    b_workspace = f"ws-b-{unique}" if other_portal == "store" else f"ws-a-{unique}"
    return a, await admin.enable(b_workspace, other_portal)


@pytest.mark.parametrize("other_portal", ["store", "dashboard"])
async def test_a_token_on_another_connections_base_url_is_refused_revealing_nothing(
    other_portal: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    a, b = await _two_connections(admin, unique, other_portal)
    scim_b = ScimClient(http, stack.edge_url, b)
    b_user = await Okta(scim_b).create_user(f"tom.{unique}@example.com")
    b_group = (await scim_b.post("/Groups", {"displayName": "B only"})).json["id"]
    a_token = f"Bearer {a.token}"

    # The issue's rule: any other connection's resource answers 401 or 404, like an unknown token, so a
    # caller cannot even learn that its token is valid somewhere else.
    unknown = await scim_b.get("/Users", auth="Bearer scim_not-a-token")
    for method, path in (
        ("GET", "/Users"),
        ("GET", f"/Users/{b_user}"),
        ("DELETE", f"/Users/{b_user}"),
        ("GET", f"/Groups/{b_group}"),
        ("POST", "/Users"),
    ):
        body = {"userName": "intruder"} if method == "POST" else None
        refused = await scim_b.request(method, path, body, auth=a_token)
        assert refused.status in (401, 404), (method, path, refused)
        assert refused.json["detail"] == unknown.json["detail"] or refused.status == 404, refused
        assert b_user not in refused.raw.decode() and "B only" not in refused.raw.decode()
    assert (await scim_b.get(f"/Users/{b_user}")).status == 200  # B's user is untouched


@pytest.mark.parametrize("other_portal", ["store", "dashboard"])
async def test_another_connections_resources_do_not_exist_through_a_token(
    other_portal: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    a, b = await _two_connections(admin, unique, other_portal)
    scim_a, scim_b = ScimClient(http, stack.edge_url, a), ScimClient(http, stack.edge_url, b)
    b_user = await Okta(scim_b).create_user(f"tom.{unique}@example.com")
    a_user = await Okta(scim_a).create_user(f"uma.{unique}@example.com")
    b_group = (await scim_b.post("/Groups", {"displayName": "B only"})).json["id"]

    assert (await scim_a.get(f"/Users/{b_user}")).status == 404
    assert (await scim_a.get(f"/Groups/{b_group}")).status == 404
    assert (await scim_a.delete(f"/Users/{b_user}")).status == 404
    add_b_user = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": b_user}]}],
    }
    a_group = (await scim_a.post("/Groups", {"displayName": "A group"})).json["id"]
    # Refused, or ignored like any unknown id: either way B's user never joins A's group.
    assert (await scim_a.patch(f"/Groups/{a_group}", add_b_user)).status in (200, 204, 400, 404)
    assert not (await scim_a.get(f"/Groups/{a_group}")).json.get("members")
    assert [u["id"] for u in (await scim_a.get("/Users")).json["Resources"]] == [a_user]
    found = (await scim_a.get("/Users", params={"filter": f'userName eq "tom.{unique}@example.com"'})).json
    assert found["totalResults"] == 0
    assert (await scim_b.get(f"/Users/{b_user}")).status == 200
