"""Tenant isolation, as a matrix: every endpoint is called with another tenant's token, with forged ids and
with forged credentials. Nothing of the victim is read (no id, userName or title in any answer) and
nothing is changed (its rows, read with SQL, are identical before and after).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from tests.security.conftest import World, fingerprint
from tests.support.admin import Tenant
from tests.support.scim_client import ScimClient, ScimResponse

PATCH = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "replace", "value": {"active": False}}],
}


def endpoints(w: World) -> list[tuple[str, str, Any]]:
    """Every SCIM endpoint, aimed at the victim's resources."""
    uid, gid = w.user_ids[0], w.group_ids[0]
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": w.user_names[0],
        "active": False,
    }
    group = {"displayName": "victim-admins", "members": []}
    bulk = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "PATCH", "path": f"/Users/{uid}", "data": PATCH},
            {"method": "DELETE", "path": f"/Groups/{gid}"},
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "planted@victim.test"}},
        ],
    }
    return [
        ("GET", "/Users", None),
        ("GET", f'/Users?filter=userName eq "{w.user_names[0]}"', None),
        ("GET", f"/Users/{uid}", None),
        ("PUT", f"/Users/{uid}", user),
        ("PATCH", f"/Users/{uid}", PATCH),
        ("DELETE", f"/Users/{uid}", None),
        ("POST", "/Users", {"userName": "planted@victim.test"}),
        ("POST", "/Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
        ("GET", "/Groups", None),
        ("GET", f"/Groups/{gid}", None),
        ("PUT", f"/Groups/{gid}", group),
        (
            "PATCH",
            f"/Groups/{gid}",
            {"schemas": PATCH["schemas"], "Operations": [{"op": "remove", "path": "members"}]},
        ),
        ("DELETE", f"/Groups/{gid}", None),
        ("POST", "/Groups", {"displayName": "planted"}),
        ("POST", "/Groups/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
        ("POST", "/Bulk", bulk),
        ("GET", "/ServiceProviderConfig", None),
        ("GET", "/ResourceTypes", None),
        ("GET", "/ResourceTypes/User", None),
        ("GET", "/Schemas", None),
        ("GET", "/Me", None),
    ]


def assert_reveals_nothing(w: World, resp: ScimResponse, where: str, asked: str = "") -> None:
    """No victim fact in the answer, other than one the caller put in the request itself (a 404 may echo
    the id it was asked for)."""
    text = resp.raw.decode(errors="replace")
    for secret in [*w.user_ids, *w.group_ids, *w.user_names, "secret", "victim-admins", w.victim.token]:
        assert secret in asked or secret not in text, f"{where}: the answer names {secret!r}: {text[:300]}"


async def test_other_tenants_tokens_and_forged_credentials_get_401_everywhere(world: World) -> None:
    before = await fingerprint(world.stack, world.victim.connection_id)
    victim_url = world.client(world.victim)
    forged = [
        f"Bearer {world.same_workspace.token}",  # the same workspace, another portal
        f"Bearer {world.other_workspace.token}",  # another workspace
        world.other_workspace.token,  # Okta's header mode, no scheme
        f"Bearer {world.victim.token[:-1]}{'A' if world.victim.token[-1] != 'A' else 'B'}",  # one char off
        f"Bearer {world.victim.token}x",
        f"Bearer {hashlib.sha256(world.victim.token.encode()).hexdigest()}",  # the stored hash itself
        f"Bearer {world.victim.connection_id}",
        "Bearer ",
        "Basic dmljdGltOnZpY3RpbQ==",
        "Bearer ' OR '1'='1",
    ]
    calls = 0
    for auth in forged:
        for method, path, body in endpoints(world):
            resp = await victim_url.request(method, path, body, auth=auth)
            calls += 1
            where = f"{method} {path} as {auth[:20]}…"
            # /Me is not implemented for anyone (501 without looking at the token); it reveals nothing.
            assert resp.status == (501 if path == "/Me" else 401), f"{where}: {resp}"
            assert resp.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], where
            assert_reveals_nothing(world, resp, where)
    assert await fingerprint(world.stack, world.victim.connection_id) == before
    assert calls >= 200


async def test_a_valid_token_on_another_tenants_url_is_refused(world: World) -> None:
    """The victim's own token, aimed at another connection's Base URL, or a made-up one: 401."""
    before = await fingerprint(world.stack, world.other_workspace.connection_id)
    for target in (world.other_workspace, world.same_workspace):
        as_victim = ScimClient(world.session, world.stack.edge_url, target)
        for method, path, body in endpoints(world):
            resp = await as_victim.request(method, path, body, auth=f"Bearer {world.victim.token}")
            assert resp.status == (501 if path == "/Me" else 401), (
                f"{method} {path} on {target.portal}: {resp}"
            )
    made_up = Tenant("", "", "", f"http://x/scim/v2/{uuid.uuid4()}", world.victim.token, "")
    resp = await ScimClient(world.session, world.stack.edge_url, made_up).get("/Users")
    assert resp.status == 401, resp
    assert await fingerprint(world.stack, world.other_workspace.connection_id) == before


async def test_forged_ids_in_an_attackers_own_tenant_reach_nothing(world: World) -> None:
    """Logged in as the attacker, name the victim's ids: in paths, filters, member lists and bulk."""
    before = await fingerprint(world.stack, world.victim.connection_id)
    for attacker in (world.same_workspace, world.other_workspace):
        scim = world.client(attacker)
        uid, gid = world.user_ids[0], world.group_ids[0]
        for method, path, body in [
            ("GET", f"/Users/{uid}", None),
            ("PUT", f"/Users/{uid}", {"userName": "hijack@x.test"}),
            ("PATCH", f"/Users/{uid}", PATCH),
            ("DELETE", f"/Users/{uid}", None),
            ("GET", f"/Groups/{gid}", None),
            ("PUT", f"/Groups/{gid}", {"displayName": "hijack"}),
            (
                "PATCH",
                f"/Groups/{gid}",
                {
                    "schemas": PATCH["schemas"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}],
                },
            ),
            ("DELETE", f"/Groups/{gid}", None),
            ("GET", f"/Groups/{uid}", None),
            ("GET", f"/Users/{gid}", None),
        ]:
            resp = await scim.request(method, path, body)
            assert resp.status == 404, f"{attacker.portal}: {method} {path}: {resp}"
            assert_reveals_nothing(world, resp, f"{method} {path}", asked=path)
        for flt in (
            f'id eq "{uid}"',
            f'userName eq "{world.user_names[0]}"',
            'externalId eq "ext-0"',
            'title eq "secret"',
            f'groups.value eq "{gid}"',
            "userName pr",
        ):
            resp = await scim.get("/Users", params={"filter": flt})
            assert resp.status in (200, 400), resp
            assert_reveals_nothing(world, resp, flt)
        resp = await scim.get("/Groups", params={"filter": f'members.value eq "{uid}"'})
        assert_reveals_nothing(world, resp, "members.value")
        # A group of the attacker's own, given the victim's user as a member: the id is ignored.
        own = await scim.post(
            "/Groups", {"displayName": f"trap-{uuid.uuid4().hex[:6]}", "members": [{"value": uid}]}
        )
        assert own.status == 201 and own.json.get("members", []) == [], own
        patched = await scim.patch(
            f"/Groups/{own.json['id']}",
            {
                "schemas": PATCH["schemas"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}],
            },
        )
        assert patched.status == 200 and not patched.json.get("members"), patched
        bulk = await scim.post(
            "/Bulk",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [
                    {"method": "PATCH", "path": f"/Users/{uid}", "data": PATCH},
                    {"method": "DELETE", "path": f"/Groups/{gid}"},
                ],
            },
        )
        assert bulk.status == 200, bulk
        assert [op["status"] for op in bulk.json["Operations"]] == ["404", "404"], bulk
        assert_reveals_nothing(world, bulk, "bulk", asked=f"{uid} {gid}")
        # userName uniqueness is per tenant: a clash with the victim's name is no oracle of its existence.
        clash = await scim.post("/Users", {"userName": world.user_names[1]})
        assert clash.status == 201, clash
    assert await fingerprint(world.stack, world.victim.connection_id) == before
