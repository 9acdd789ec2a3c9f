"""MDM portal: each on-create by on-deactivate option against a real device registry, configured and read
back through `scimctl --json` the way an operator (or an external check) does."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.support.admin import Admin, Tenant
from tests.support.idp import Okta
from tests.support.portal import wait_for_action
from tests.support.scim_client import ScimClient
from tests.support.scimctl import scimctl_ok
from tests.support.stack import Stack

DEACTIVATE_OPTIONS = [
    "nothing",
    "unassign-devices",
    "change-policy",
    "remove-user",
    "remove-user-and-devices",
]


async def _mdm(stack: Stack, workspace: str, on_create: str, on_deactivate: str) -> Tenant:
    await scimctl_ok(stack, "workspace", "create", workspace, "--if-missing")
    for policy in ("Standard", "Quarantine"):
        await scimctl_ok(stack, "policies", "add", "--workspace", workspace, "--name", policy)
    extra = ["--policy", "Quarantine"] if on_deactivate == "change-policy" else []
    out = await scimctl_ok(
        stack,
        "scim",
        "enable",
        "--workspace",
        workspace,
        "--portal",
        "mdm",
        "--on-create",
        on_create,
        "--on-deactivate",
        on_deactivate,
        *extra,
    )
    assert out["behaviour"]["on_create"] == on_create and out["behaviour"]["on_deactivate"] == on_deactivate
    return Tenant(out["workspace_id"], workspace, "mdm", out["base_url"], out["token"], out["connection_id"])


async def _devices(stack: Stack, workspace: str) -> dict[str, tuple[Any, Any]]:
    out = await scimctl_ok(stack, "devices", "list", "--workspace", workspace)
    return {d["serial"]: (d["user"], d["policy"]) for d in out["devices"]}


async def _accounts(stack: Stack, workspace: str) -> dict[str, Any]:
    out = await scimctl_ok(stack, "portal", "accounts", "--workspace", workspace, "--portal", "mdm")
    return {a["userName"]: a for a in out["accounts"]}


def _expected_devices(on_deactivate: str, name: str) -> dict[str, tuple[Any, Any]]:
    mine = {
        "nothing": (name, "Standard"),
        "unassign-devices": (None, "Standard"),
        "change-policy": (name, "Quarantine"),
        "remove-user": (None, "Standard"),
    }.get(on_deactivate)
    # A bystander's device shows that each option touches only the deactivated user's devices.
    other = {"S-OTHER": ("someone.else@example.com", "Standard")}
    return other if mine is None else {"S-1": mine, "S-2": mine, **other}


@pytest.mark.parametrize("on_deactivate", DEACTIVATE_OPTIONS)
@pytest.mark.parametrize("on_create", ["nothing", "employee"])
async def test_mdm_options(
    on_create: str, on_deactivate: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await _mdm(stack, workspace, on_create, on_deactivate)
    name = f"liv.{unique}@example.com"
    for serial, user in (("S-1", name), ("S-2", name), ("S-OTHER", "someone.else@example.com")):
        await scimctl_ok(
            stack,
            "devices",
            "add",
            "--workspace",
            workspace,
            "--serial",
            serial,
            "--user",
            user,
            "--policy",
            "Standard",
        )
    okta = Okta(ScimClient(http, stack.edge_url, tenant))

    uid = await okta.create_user(name)
    await wait_for_action(admin, tenant, name, "create-employee" if on_create == "employee" else "none")
    accounts = await _accounts(stack, workspace)
    if on_create == "employee":
        assert accounts[name]["status"] == "active"
        assert accounts[name]["devices"] == [
            {"serial": "S-1", "policy": "Standard"},
            {"serial": "S-2", "policy": "Standard"},
        ]
    else:
        assert name not in accounts

    await okta.set_active(uid, False)
    action = "none" if on_deactivate == "nothing" else on_deactivate
    both_nothing = (on_create, on_deactivate) == ("nothing", "nothing")
    entries = await wait_for_action(admin, tenant, name, action, occurrence=2 if both_nothing else 1)
    assert entries[-1].result in ("applied", "skipped"), entries[-1]
    assert await _devices(stack, workspace) == _expected_devices(on_deactivate, name)
    removes_account = on_deactivate in ("remove-user", "remove-user-and-devices")
    assert (name in await _accounts(stack, workspace)) is (on_create == "employee" and not removes_account)


async def test_a_deleted_policy_fails_the_action_with_its_reason_and_later_events_still_apply(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await _mdm(stack, workspace, "employee", "change-policy")
    first, second = f"max.{unique}@example.com", f"ned.{unique}@example.com"
    await scimctl_ok(
        stack,
        "devices",
        "add",
        "--workspace",
        workspace,
        "--serial",
        "S-9",
        "--user",
        first,
        "--policy",
        "Standard",
    )
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    uid = await okta.create_user(first)
    await wait_for_action(admin, tenant, first, "create-employee")

    await scimctl_ok(stack, "policies", "remove", "--workspace", workspace, "--name", "Quarantine")
    await okta.set_active(uid, False)
    await okta.create_user(second)

    await wait_for_action(admin, tenant, second, "create-employee")
    failed = (await wait_for_action(admin, tenant, first, "change-policy"))[-1]
    assert failed.result == "failed" and "'Quarantine' does not exist" in failed.detail
    assert failed.reason.startswith("UserUpdated") and failed.request_id
    assert await _devices(stack, workspace) == {"S-9": (first, "Standard")}
    audit = await scimctl_ok(stack, "audit", "--workspace", workspace, "--user", first)
    assert audit["entries"][0]["action"] == "change-policy" and audit["entries"][0]["result"] == "failed"


async def test_devices_follow_a_user_rename(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await _mdm(stack, workspace, "employee", "unassign-devices")
    name, renamed = f"oz.{unique}@example.com", f"oz.new.{unique}@example.com"
    await scimctl_ok(stack, "devices", "add", "--workspace", workspace, "--serial", "S-5", "--user", name)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    uid = await okta.create_user(name)
    await okta.update_user(uid, userName=renamed)
    await wait_for_action(admin, tenant, renamed, "update-profile")
    assert (await _devices(stack, workspace))["S-5"] == (renamed, None)

    await okta.set_active(uid, False)
    await wait_for_action(admin, tenant, renamed, "unassign-devices")
    assert (await _devices(stack, workspace))["S-5"] == (None, None)
