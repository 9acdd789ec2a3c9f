"""Preview: what deactivating a user would do, for each portal and each on-deactivate option, checked against
what the deactivation then does (its audit entries and the portal state), action for action; and what a
behaviour change would do to the next deactivation of every active user."""

from __future__ import annotations

import aiohttp
import grpc
import pytest
from scimsuite.portal.v1 import portal_pb2

from tests.support.admin import Admin, Tenant
from tests.support.idp import Okta
from tests.support.portal import audit_entries, devices, wait_for_action
from tests.support.scim_client import ScimClient
from tests.support.scimctl import scimctl, scimctl_ok
from tests.support.stack import Stack

CASES = [
    ("store", "nothing"),
    ("store", "remove"),
    ("dashboard", "nothing"),
    ("dashboard", "remove"),
    ("mdm", "nothing"),
    ("mdm", "unassign-devices"),
    ("mdm", "change-policy"),
    ("mdm", "remove-user"),
    ("mdm", "remove-user-and-devices"),
]
ON_CREATE = {"store": "employee", "dashboard": "collaborator", "mdm": "employee"}


async def _add_device(admin: Admin, tenant: Tenant, serial: str, user: str, policy: str) -> None:
    device = portal_pb2.Device(workspace_id=tenant.workspace_id, serial=serial, user_name=user, policy=policy)
    await admin.portal.AddDevice(portal_pb2.AddDeviceRequest(device=device), metadata=admin.md)


async def _tenant(admin: Admin, workspace: str, portal: str, on_deactivate: str) -> Tenant:
    ws_id = await admin.workspace(workspace)
    if portal == "mdm":
        for policy in ("Standard", "Quarantine"):
            await admin.portal.AddPolicy(
                portal_pb2.AddPolicyRequest(policy=portal_pb2.Policy(workspace_id=ws_id, name=policy)),
                metadata=admin.md,
            )
    extra = {"deactivate_policy": "Quarantine"} if on_deactivate == "change-policy" else {}
    return await admin.enable(
        workspace, portal, on_create=ON_CREATE[portal], on_deactivate=on_deactivate, **extra
    )


async def _preview(admin: Admin, tenant: Tenant, user: str) -> portal_pb2.UserPreview:
    request = portal_pb2.PreviewDeactivationRequest(
        workspace_id=tenant.workspace_id, portal=tenant.portal, user=user
    )
    return await admin.portal.PreviewDeactivation(request, metadata=admin.md)


@pytest.mark.parametrize(("portal", "on_deactivate"), CASES)
async def test_preview_matches_what_the_deactivation_then_does(
    portal: str, on_deactivate: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await _tenant(admin, f"ws-{unique}", portal, on_deactivate)
    name = f"pia.{unique}@example.com"
    if portal == "mdm":
        for serial in ("C02X1", "C02X2"):
            await _add_device(admin, tenant, serial, name, "Standard")
        await _add_device(admin, tenant, "BYSTANDER", "someone.else@example.com", "Standard")
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    uid = await okta.create_user(name)
    await wait_for_action(admin, tenant, name, f"create-{ON_CREATE[portal]}")
    before = await audit_entries(admin, tenant, name)
    devices_before = await devices(admin, tenant)

    by_name = await _preview(admin, tenant, name.upper())
    by_id = await _preview(admin, tenant, uid)
    assert by_name == by_id and by_name.user_id == uid and by_name.active
    # Previewing changed nothing.
    assert await audit_entries(admin, tenant, name) == before
    assert await devices(admin, tenant) == devices_before
    assert name in await admin.accounts(tenant)

    planned = [(a.action, a.result, a.detail) for a in by_name.actions]
    await okta.set_active(uid, False)
    expected_action = planned[0][0]
    entries = await wait_for_action(
        admin, tenant, name, expected_action, occurrence=1 + [e.action for e in before].count(expected_action)
    )
    done = [(e.action, e.result, e.detail) for e in entries[len(before) :]]
    assert done == planned

    summary = by_name.actions[0].summary
    after = await devices(admin, tenant)
    if on_deactivate in ("remove", "remove-user", "remove-user-and-devices"):
        assert name not in await admin.accounts(tenant)
        assert summary.startswith(f"remove {'collaborator' if portal == 'dashboard' else 'employee'}")
    if on_deactivate == "remove-user-and-devices":
        assert "C02X1" not in after and "C02X2" not in after
        assert summary.endswith("delete 2 device(s): C02X1, C02X2")
    if on_deactivate in ("unassign-devices", "remove-user"):
        assert after["C02X1"] == ("", "Standard") and after["C02X2"] == ("", "Standard")
        assert "C02X1, C02X2" in summary
    if on_deactivate == "change-policy":
        assert after["C02X1"] == (name, "Quarantine")
        assert summary == "change the policy of 2 device(s) to Quarantine: C02X1, C02X2"
    if portal == "dashboard" and on_deactivate == "remove":
        assert summary == "remove collaborator (role viewer)"
    if portal == "mdm":
        assert after["BYSTANDER"] == ("someone.else@example.com", "Standard")
    assert by_name.actions[0].destructive is (on_deactivate != "nothing")

    # Once deactivated, a preview says the deactivation behaviour already ran.
    again = await _preview(admin, tenant, name)
    assert not again.active and not again.actions and "already deactivated" in again.note


async def test_behaviour_change_preview_counts_with_a_sample_through_scimctl(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await _tenant(admin, workspace, "mdm", "unassign-devices")
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    names = [f"u{i}.{unique}@example.com" for i in range(3)]
    for i, name in enumerate(names):
        for d in range(i + 1):
            await _add_device(admin, tenant, f"D{i}{d}-{unique}", name, "Standard")
        await okta.create_user(name)
    gone = await okta.create_user(f"gone.{unique}@example.com")
    await okta.set_active(gone, False)
    for name in names:
        await wait_for_action(admin, tenant, name, "create-employee")
    await wait_for_action(admin, tenant, f"gone.{unique}@example.com", "unassign-devices")
    registry = await devices(admin, tenant)

    out = await scimctl_ok(
        stack,
        "preview",
        "behaviour",
        "--workspace",
        workspace,
        "--portal",
        "mdm",
        "--on-deactivate",
        "remove-user-and-devices",
        "--sample",
        "2",
    )
    assert out["behaviour"]["on_deactivate"] == "remove-user-and-devices"
    assert (out["active_users"], out["accounts_removed"], out["devices_deleted"]) == (3, 3, 6)
    assert out["devices_unassigned"] == 0 and out["devices_repolicied"] == 0
    assert [s["userName"] for s in out["sample"]] == names[:2]
    assert out["sample"][1]["actions"][0]["detail"] == f"deleted: D10-{unique}, D11-{unique}"
    # The preview stored nothing: the behaviour and the registry are as they were.
    current = await scimctl_ok(stack, "scim", "configure", "--workspace", workspace, "--portal", "mdm")
    assert current["behaviour"]["on_deactivate"] == "unassign-devices"
    assert await devices(admin, tenant) == registry

    user = await scimctl_ok(
        stack, "preview", "user", "--workspace", workspace, "--portal", "mdm", "--user", names[2]
    )
    assert user["actions"][0]["action"] == "unassign-devices" and user["actions"][0]["destructive"]


async def test_preview_of_unknown_users_and_policies_is_a_clear_error(
    admin: Admin, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await _tenant(admin, workspace, "mdm", "remove-user")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _preview(admin, tenant, "nobody@example.com")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "nobody@example.com" in (
        err.value.details() or ""
    )

    missing = await scimctl(
        stack, "preview", "user", "--workspace", workspace, "--portal", "mdm", "--user", "nobody@example.com"
    )
    assert missing.code == 1 and "no user 'nobody@example.com'" in missing.out["error"]
    assert "Traceback" not in missing.stderr
    bad_policy = await scimctl(
        stack,
        "preview",
        "behaviour",
        "--workspace",
        workspace,
        "--portal",
        "mdm",
        "--on-deactivate",
        "change-policy",
        "--policy",
        "Nowhere",
    )
    assert bad_policy.code == 1 and "policy 'Nowhere' does not exist" in bad_policy.out["error"]
    bad_option = await scimctl(
        stack,
        "preview",
        "behaviour",
        "--workspace",
        workspace,
        "--portal",
        "store",
        "--on-deactivate",
        "wipe",
    )
    assert bad_option.code == 2 and "on-deactivate 'wipe'" in bad_option.out["error"]
