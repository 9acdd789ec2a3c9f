"""Dashboard: collaborators under each on-create by on-deactivate option, and role mapping through Okta's
create-then-push-groups sequence (idp-clients §1.4, §1.8).

Role rule under test: at first provisioning the role is the highest mapped role among the user's groups
(or the default role); membership changes within `role_settle_seconds` of the provisioning recompute it;
after the window the role is fixed.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from scimsuite.portal.v1 import portal_pb2

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import Okta
from tests.support.portal import wait_for_action
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack


@pytest.mark.parametrize("on_deactivate", ["nothing", "remove"])
@pytest.mark.parametrize("on_create", ["nothing", "collaborator"])
async def test_dashboard_create_and_deactivate(
    on_create: str, on_deactivate: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(
        f"ws-{unique}",
        "dashboard",
        on_create=on_create,
        on_deactivate=on_deactivate,
        default_role="developer",
    )
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    name = f"eve.{unique}@example.com"

    uid = await okta.create_user(name)
    await wait_for_action(
        admin, tenant, name, "create-collaborator" if on_create == "collaborator" else "none"
    )
    accounts = await admin.accounts(tenant)
    if on_create == "collaborator":
        assert accounts[name]["status"] == "active" and accounts[name]["role"] == "developer"
    else:
        assert name not in accounts

    await okta.set_active(uid, False)
    entries = await wait_for_action(
        admin,
        tenant,
        name,
        on_deactivate if on_deactivate == "remove" else "none",
        occurrence=2 if (on_create, on_deactivate) == ("nothing", "nothing") else 1,
    )
    accounts = await admin.accounts(tenant)
    kept = on_create == "collaborator" and on_deactivate == "nothing"
    assert (name in accounts) is kept
    if kept:
        assert accounts[name]["role"] == "developer"
    if on_deactivate == "remove":
        assert entries[-1].result == ("applied" if on_create == "collaborator" else "skipped")


async def _map(admin: Admin, tenant: Tenant, group: str, role: str) -> None:
    await admin.portal.MapRole(
        portal_pb2.MapRoleRequest(
            mapping=portal_pb2.RoleMapping(workspace_id=tenant.workspace_id, group=group, role=role)
        ),
        metadata=admin.md,
    )


async def _dashboard(admin: Admin, unique: str, settle: int, on_deactivate: str = "remove") -> Tenant:
    tenant = await admin.enable(
        f"ws-{unique}",
        "dashboard",
        on_create="collaborator",
        default_role="viewer",
        on_deactivate=on_deactivate,
        role_settle_seconds=settle,
    )
    await _map(admin, tenant, "Okta Admins", "admin")
    await _map(admin, tenant, "Devs", "developer")
    await _map(admin, tenant, "Viewers", "viewer")
    await _map(admin, tenant, "Contractors", "unassigned")
    return tenant


async def _role(admin: Admin, tenant: Tenant, name: str) -> str:
    return str((await admin.accounts(tenant))[name]["role"])


async def test_initial_push_into_several_groups_gives_the_highest_role(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await _dashboard(admin, unique, settle=300)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    name = f"fay.{unique}@example.com"
    uid = await okta.create_user(name)
    await wait_for_action(admin, tenant, name, "create-collaborator")
    assert await _role(admin, tenant, name) == "viewer"  # no group yet: the default role

    # Okta pushes the groups that contain the user only after creating them; group names match mappings
    # case-insensitively.
    await okta.push_group("Devs", [uid])
    await okta.push_group("okta admins", [uid])
    await wait_for_action(admin, tenant, name, "add-to-group", occurrence=2)
    assert await _role(admin, tenant, name) == "admin"
    entries = await wait_for_action(admin, tenant, name, "set-role", occurrence=1)
    assert any(e.action == "set-role" and e.detail.startswith("viewer -> ") for e in entries)

    # Within the window the role follows the groups down as well as up.
    gid = await okta.push_group("Viewers", [uid])
    assert gid
    await wait_for_action(admin, tenant, name, "add-to-group", occurrence=3)
    assert await _role(admin, tenant, name) == "admin"


async def test_no_mapped_group_gives_the_default_role_and_unassigned_is_a_role(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await _dashboard(admin, unique, settle=300)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    plain, contractor = f"gus.{unique}@example.com", f"hal.{unique}@example.com"
    plain_id = await okta.create_user(plain)
    contractor_id = await okta.create_user(contractor)
    await okta.push_group("Book Club", [plain_id, contractor_id])  # not mapped
    await okta.push_group("Contractors", [contractor_id])
    await wait_for_action(admin, tenant, plain, "add-to-group")
    await wait_for_action(admin, tenant, contractor, "add-to-group", occurrence=2)
    accounts = await admin.accounts(tenant)
    assert accounts[plain]["role"] == "viewer"
    assert accounts[plain]["groups"] == ["Book Club"]
    assert accounts[contractor]["role"] == "unassigned"


async def test_removal_from_a_group_within_the_window_lowers_the_role(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await _dashboard(admin, unique, settle=300)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    name = f"ida.{unique}@example.com"
    uid = await okta.create_user(name)
    admins = await okta.push_group("Okta Admins", [uid])
    await okta.push_group("Devs", [uid])
    await wait_for_action(admin, tenant, name, "add-to-group", occurrence=2)
    assert await _role(admin, tenant, name) == "admin"

    await okta.remove_member(admins, uid)
    await wait_for_action(admin, tenant, name, "remove-from-group")
    assert await _role(admin, tenant, name) == "developer"


async def test_group_changes_after_the_window_do_not_override_the_role(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await _dashboard(admin, unique, settle=0)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    name = f"jon.{unique}@example.com"
    uid = await okta.create_user(name)
    await okta.push_group("Okta Admins", [uid])
    entries = await wait_for_action(admin, tenant, name, "add-to-group")
    assert [e.action for e in entries] == ["create-collaborator", "add-to-group"]
    assert await _role(admin, tenant, name) == "viewer"
    assert (await admin.accounts(tenant))[name]["groups"] == ["Okta Admins"]


@pytest.mark.parametrize("on_deactivate", ["remove", "nothing"])
async def test_a_second_provisioning_applies_role_mapping_only_if_the_account_was_removed(
    on_deactivate: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await _dashboard(admin, unique, settle=0, on_deactivate=on_deactivate)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    name = f"kim.{unique}@example.com"
    uid = await okta.create_user(name)
    await okta.push_group("Devs", [uid])
    await wait_for_action(admin, tenant, name, "add-to-group")
    assert await _role(admin, tenant, name) == "viewer"  # the push came after the (zero) window

    await okta.set_active(uid, False)
    await okta.set_active(uid, True)
    if on_deactivate == "remove":
        # Removed, so the reactivation is a first provisioning again: the groups decide.
        await wait_for_action(admin, tenant, name, "create-collaborator", occurrence=2)
        assert await _role(admin, tenant, name) == "developer"
    else:
        # Kept while deactivated: the user already exists, so the role stays.
        entries = await wait_for_action(admin, tenant, name, "none", occurrence=2)
        assert "reactivated" in entries[-1].detail
        assert await _role(admin, tenant, name) == "viewer"


async def test_concurrent_creates_and_pushes_all_settle_on_the_mapped_role(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    # The creates and the pushes reach the consumer in the same batch and are applied concurrently; the
    # role must not depend on which transaction commits first.
    tenant = await _dashboard(admin, unique, settle=300)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    names = [f"u{i}.{unique}@example.com" for i in range(16)]
    ids = await asyncio.gather(*(okta.create_user(n) for n in names))
    await asyncio.gather(okta.push_group("Okta Admins", ids[::2]), okta.push_group("Devs", ids))

    async def settled() -> dict[str, str]:
        accounts = await admin.accounts(tenant)
        assert all(
            len(accounts.get(n, {}).get("groups", [])) == (2 if i % 2 == 0 else 1)
            for i, n in enumerate(names)
        ), accounts
        return {n: str(a["role"]) for n, a in accounts.items()}

    roles = await assert_eventually(settled)
    assert roles == {n: "admin" if i % 2 == 0 else "developer" for i, n in enumerate(names)}
