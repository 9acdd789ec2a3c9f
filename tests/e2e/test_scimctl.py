"""`scimctl --json` as an operator runs it: the documented command shapes, their JSON, and bad input that
gets a clear error while the previous configuration stays in force."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.support.admin import Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import ENTERPRISE, Okta
from tests.support.scim_client import ScimClient
from tests.support.scimctl import scimctl, scimctl_ok
from tests.support.stack import Stack


def _tenant(out: dict[str, Any], workspace: str) -> Tenant:
    return Tenant(
        out["workspace_id"], workspace, out["portal"], out["base_url"], out["token"], out["connection_id"]
    )


async def test_dashboard_through_the_cli(http: aiohttp.ClientSession, stack: Stack, unique: str) -> None:
    ws = f"ws-{unique}"
    await scimctl_ok(stack, "workspace", "create", ws)
    out = await scimctl_ok(
        stack,
        "scim",
        "enable",
        "--workspace",
        ws,
        "--portal",
        "dashboard",
        "--on-create",
        "collaborator",
        "--default-role",
        "viewer",
        "--on-deactivate",
        "remove",
    )
    assert out["token"] and out["base_url"].endswith(f"/scim/v2/{out['connection_id']}")
    assert out["behaviour"] == {
        "on_create": "collaborator",
        "on_deactivate": "remove",
        "default_role": "viewer",
        "role_settle_seconds": 300,
    }
    assert await scimctl_ok(
        stack, "roles", "map", "--workspace", ws, "--group", "Okta Admins", "--role", "admin"
    ) == {"group": "Okta Admins", "role": "admin"}
    assert await scimctl_ok(
        stack,
        "attributes",
        "map",
        "--workspace",
        ws,
        "--portal",
        "dashboard",
        "--scim-attribute",
        f"{ENTERPRISE}:department",
        "--metadata-key",
        "department",
    ) == {"portal": "dashboard", "scim_attribute": f"{ENTERPRISE}:department", "metadata_key": "department"}

    okta = Okta(ScimClient(http, stack.edge_url, _tenant(out, ws)))
    name = f"val.{unique}@example.com"
    uid = await okta.create_user(name, **{ENTERPRISE: {"department": "Ops"}})
    await okta.push_group("Okta Admins", [uid])

    async def provisioned() -> list[dict[str, Any]]:
        accounts = await scimctl_ok(stack, "portal", "accounts", "--workspace", ws, "--portal", "dashboard")
        assert accounts["accounts"] and accounts["accounts"][0]["role"] == "admin", accounts
        return list(accounts["accounts"])

    accounts = await assert_eventually(provisioned)
    assert accounts == [
        {
            "userName": name,
            "status": "active",
            "role": "admin",
            "metadata": {"department": "Ops"},
            "groups": ["Okta Admins"],
            "devices": [],
            "id": uid,
        }
    ]
    audit = await scimctl_ok(stack, "audit", "--workspace", ws, "--user", name)
    assert [e["action"] for e in audit["entries"]] == ["set-role", "add-to-group", "create-collaborator"]
    first = audit["entries"][-1]
    assert first["result"] == "applied" and first["reason"].startswith("UserCreated") and first["request_id"]
    groups = await scimctl_ok(
        stack, "portal", "groups", "--workspace", ws, "--portal", "dashboard", "--user", name
    )
    assert [g["displayName"] for g in groups["groups"]] == ["Okta Admins"]


async def test_rotate_through_the_cli_keeps_the_old_token_for_the_overlap(
    http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    ws = f"ws-{unique}"
    await scimctl_ok(stack, "workspace", "create", ws)
    out = await scimctl_ok(
        stack,
        "scim",
        "enable",
        "--workspace",
        ws,
        "--portal",
        "store",
        "--on-create",
        "employee",
        "--on-deactivate",
        "remove",
    )
    rotated = await scimctl_ok(
        stack, "scim", "rotate", "--workspace", ws, "--portal", "store", "--overlap", "10m"
    )
    assert rotated["overlap_seconds"] == 600 and rotated["token"] != out["token"]
    scim = ScimClient(http, stack.edge_url, _tenant(out, ws))
    assert (await scim.get("/Users")).status == 200
    assert (await scim.get("/Users", auth=f"Bearer {rotated['token']}")).status == 200

    assert (await scimctl_ok(stack, "scim", "disable", "--workspace", ws, "--portal", "store"))[
        "enabled"
    ] is False
    assert (await scim.get("/Users", auth=f"Bearer {rotated['token']}")).status == 401


async def _behaviour(stack: Stack, ws: str, portal: str) -> dict[str, Any]:
    status = await scimctl_ok(stack, "scim", "status", "--workspace", ws)
    return next(c["behaviour"] for c in status["connections"] if c["portal"] == portal)


@pytest.mark.parametrize(
    ("portal", "args", "message"),
    [
        ("store", ["--on-create", "collaborator"], "on-create 'collaborator' is not an option for store"),
        ("store", ["--on-deactivate", "unassign-devices"], "not an option for store"),
        ("dashboard", ["--default-role", "superuser"], "default role 'superuser'"),
        ("dashboard", ["--on-deactivate", "explode"], "not an option for dashboard"),
        (
            "mdm",
            ["--on-deactivate", "change-policy", "--policy", "Missing"],
            "policy 'Missing' does not exist",
        ),
        ("mdm", ["--on-deactivate", "change-policy", "--policy", ""], "needs a policy"),
        ("mdm", ["--role-settle", "soon"], "not a duration"),
    ],
)
async def test_invalid_behaviour_is_refused_and_the_previous_one_stays(
    portal: str, args: list[str], message: str, stack: Stack, unique: str
) -> None:
    ws = f"ws-{unique}"
    await scimctl_ok(stack, "workspace", "create", ws)
    on_create = "collaborator" if portal == "dashboard" else "employee"
    before = (
        await scimctl_ok(
            stack,
            "scim",
            "enable",
            "--workspace",
            ws,
            "--portal",
            portal,
            "--on-create",
            on_create,
            "--on-deactivate",
            "nothing",
        )
    )["behaviour"]

    refused = await scimctl(stack, "scim", "configure", "--workspace", ws, "--portal", portal, *args)
    assert refused.code == 2 and message in refused.out["error"], refused
    assert await _behaviour(stack, ws, portal) == before


async def test_unknown_role_policy_and_reserved_key_are_refused(stack: Stack, unique: str) -> None:
    ws = f"ws-{unique}"
    await scimctl_ok(stack, "workspace", "create", ws)
    await scimctl_ok(stack, "roles", "map", "--workspace", ws, "--group", "Devs", "--role", "editor")

    refused = await scimctl(stack, "roles", "map", "--workspace", ws, "--group", "Devs", "--role", "owner")
    assert refused.code == 2 and "unknown role 'owner'" in refused.out["error"]
    assert (await scimctl_ok(stack, "roles", "list", "--workspace", ws))["mappings"] == [
        {"group": "Devs", "role": "developer"}
    ]

    refused = await scimctl(stack, "devices", "add", "--workspace", ws, "--serial", "S1", "--policy", "Nope")
    assert refused.code == 2 and "policy 'Nope' does not exist" in refused.out["error"]
    assert (await scimctl_ok(stack, "devices", "list", "--workspace", ws))["devices"] == []

    refused = await scimctl(
        stack,
        "attributes",
        "map",
        "--workspace",
        ws,
        "--portal",
        "store",
        "--scim-attribute",
        "title",
        "--metadata-key",
        "status",
    )
    assert refused.code == 2 and "reserved" in refused.out["error"]
    assert (await scimctl_ok(stack, "attributes", "list", "--workspace", ws, "--portal", "store"))[
        "mappings"
    ] == []

    unknown_ws = await scimctl(stack, "policies", "list", "--workspace", f"missing-{unique}")
    assert unknown_ws.code == 1 and "no workspace" in unknown_ws.out["error"]


async def test_devices_and_policies_through_the_cli(stack: Stack, unique: str) -> None:
    ws = f"ws-{unique}"
    await scimctl_ok(stack, "workspace", "create", ws)
    assert await scimctl_ok(stack, "policies", "add", "--workspace", ws, "--name", "Kiosk") == {
        "name": "Kiosk"
    }
    assert await scimctl_ok(
        stack, "devices", "add", "--workspace", ws, "--serial", "S1", "--user", "wes@x", "--policy", "Kiosk"
    ) == {"serial": "S1", "user": "wes@x", "policy": "Kiosk"}
    assert await scimctl_ok(stack, "devices", "assign", "--workspace", ws, "--serial", "S1") == {
        "serial": "S1",
        "user": None,
        "policy": "Kiosk",
    }
    assert await scimctl_ok(stack, "devices", "policy", "--workspace", ws, "--serial", "S1") == {
        "serial": "S1",
        "user": None,
        "policy": None,
    }
    assert await scimctl_ok(stack, "devices", "remove", "--workspace", ws, "--serial", "S1") == {
        "removed": "S1"
    }
    missing = await scimctl(
        stack, "devices", "assign", "--workspace", ws, "--serial", "S1", "--user", "wes@x"
    )
    assert missing.code == 1 and "no device 'S1'" in missing.out["error"]
    assert (await scimctl_ok(stack, "policies", "list", "--workspace", ws))["policies"] == ["Kiosk"]
