"""Dry run per connection, over real services and Okta-shaped traffic: the IdP gets its normal answers, the
audit shows each would-be action marked dry-run, the portal state is untouched; then both ways out."""

from __future__ import annotations

import aiohttp
from scimsuite.portal.v1 import portal_pb2

from tests.support.admin import Admin, Tenant
from tests.support.idp import OKTA, Okta
from tests.support.portal import audit_entries, devices, wait_for_action
from tests.support.scim_client import ScimClient
from tests.support.scimctl import scimctl, scimctl_ok
from tests.support.stack import Stack


async def _enable(stack: Stack, workspace: str, portal: str, *options: str) -> Tenant:
    await scimctl_ok(stack, "workspace", "create", workspace, "--if-missing")
    out = await scimctl_ok(
        stack, "scim", "enable", "--workspace", workspace, "--portal", portal, *options, "--dry-run", "on"
    )
    assert out["dry_run"]["enabled"] is True and out["dry_run"]["since"]
    return Tenant(out["workspace_id"], workspace, portal, out["base_url"], out["token"], out["connection_id"])


async def _modes(admin: Admin, tenant: Tenant, name: str) -> list[tuple[str, str, str, str]]:
    return [(e.action, e.result, e.detail, e.mode) for e in await audit_entries(admin, tenant, name)]


async def test_a_dry_run_connection_audits_would_be_actions_and_leaves_the_portal_untouched(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    ws_id = await admin.workspace(workspace)
    await admin.portal.AddPolicy(
        portal_pb2.AddPolicyRequest(policy=portal_pb2.Policy(workspace_id=ws_id, name="Standard")),
        metadata=admin.md,
    )
    name = f"dri.{unique}@example.com"
    for serial in ("DR-1", "DR-2"):
        device = portal_pb2.Device(workspace_id=ws_id, serial=serial, user_name=name, policy="Standard")
        await admin.portal.AddDevice(portal_pb2.AddDeviceRequest(device=device), metadata=admin.md)
    tenant = await _enable(
        stack, workspace, "mdm", "--on-create", "employee", "--on-deactivate", "remove-user-and-devices"
    )
    registry = await devices(admin, tenant)
    scim = ScimClient(http, stack.edge_url, tenant)
    okta = Okta(scim)

    uid = await okta.create_user(name)
    await wait_for_action(admin, tenant, name, "create-employee")
    await okta.set_active(uid, False)
    await wait_for_action(admin, tenant, name, "remove-user-and-devices")

    assert await _modes(admin, tenant, name) == [
        ("create-employee", "applied", "", "dry-run"),
        ("remove-user-and-devices", "applied", "no account to remove; deleted: DR-1, DR-2", "dry-run"),
    ]
    # Nothing was applied: no account was ever created, no device deleted.
    assert await admin.accounts(tenant, include_removed=True) == {}
    assert await devices(admin, tenant) == registry
    # The IdP saw a normal SCIM server.
    user = await scim.get(f"/Users/{uid}", headers=OKTA)
    assert user.status == 200 and user.json["active"] is False
    status = await scimctl_ok(stack, "scim", "configure", "--workspace", workspace, "--portal", "mdm")
    assert status["dry_run"]["enabled"] is True


async def test_dry_run_set_later_then_left_with_start_fresh(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await admin.enable(workspace, "store", on_create="employee", on_deactivate="remove")
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    kept, during, after = (f"{n}.{unique}@example.com" for n in ("kept", "during", "after"))
    kept_id = await okta.create_user(kept)
    await wait_for_action(admin, tenant, kept, "create-employee")

    base = ("scim", "configure", "--workspace", workspace, "--portal", "store")
    on = await scimctl_ok(stack, *base, "--dry-run", "on")
    assert on["dry_run"]["enabled"] is True
    await okta.set_active(kept_id, False)
    await okta.create_user(during)
    await wait_for_action(admin, tenant, kept, "remove")
    await wait_for_action(admin, tenant, during, "create-employee")
    assert (await _modes(admin, tenant, kept))[-1] == ("remove", "applied", "", "dry-run")
    assert set(await admin.accounts(tenant)) == {kept}

    # Leaving needs a choice between the two ways out.
    unsure = await scimctl(stack, *base, "--dry-run", "off")
    assert unsure.code == 2 and "leaving dry run needs a choice" in unsure.out["error"]
    assert (await scimctl_ok(stack, *base))["dry_run"]["enabled"] is True

    off = await scimctl_ok(stack, *base, "--dry-run", "off", "--on-leave", "start-fresh")
    assert off["dry_run"] == {"enabled": False, "since": None}
    await okta.create_user(after)
    await wait_for_action(admin, tenant, after, "create-employee")
    # From the next event on, live: `after` has an account; what the dry run saw is not applied.
    accounts = await admin.accounts(tenant)
    assert set(accounts) == {kept, after}
    assert (await _modes(admin, tenant, after)) == [("create-employee", "applied", "", "live")]
    # `kept` is deactivated in the directory: a reactivation now is live, and keeps the account.
    await okta.set_active(kept_id, True)
    entries = await wait_for_action(admin, tenant, kept, "none")
    assert entries[-1].mode == "live" and "reactivated" in entries[-1].detail
