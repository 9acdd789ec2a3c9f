"""Enterprise Store: Okta-shaped traffic under each on-create by on-deactivate option, then every shape of
deactivation and hard delete that Okta and Entra send."""

from __future__ import annotations

import aiohttp
import pytest

from tests.support.admin import Admin
from tests.support.idp import Entra, Okta
from tests.support.portal import wait_for_action
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack


@pytest.mark.parametrize("on_deactivate", ["nothing", "remove"])
@pytest.mark.parametrize("on_create", ["nothing", "employee"])
async def test_store_create_deactivate_reactivate(
    on_create: str, on_deactivate: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create=on_create, on_deactivate=on_deactivate)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    name = f"ana.{unique}@example.com"

    uid = await okta.create_user(name)
    created = await wait_for_action(
        admin, tenant, name, "create-employee" if on_create == "employee" else "none"
    )
    assert created[0].request_id and created[0].reason.startswith("UserCreated")
    accounts = await admin.accounts(tenant)
    if on_create == "employee":
        assert accounts[name]["status"] == "active"
    else:
        assert name not in accounts

    await okta.set_active(uid, False)
    if on_deactivate == "remove":
        entries = await wait_for_action(admin, tenant, name, "remove")
        assert entries[-1].result == ("applied" if on_create == "employee" else "skipped")
        assert name not in await admin.accounts(tenant)
    else:
        await wait_for_action(admin, tenant, name, "none", occurrence=2 if on_create == "nothing" else 1)
        assert (name in await admin.accounts(tenant)) is (on_create == "employee")

    # A reactivated user whose account was removed is created again according to on-create.
    await okta.set_active(uid, True)
    if on_create == "employee" and on_deactivate == "remove":
        await wait_for_action(admin, tenant, name, "create-employee", occurrence=2)
    else:
        await wait_for_action(admin, tenant, name, "none", occurrence=_nones(on_create, on_deactivate) + 1)
    accounts = await admin.accounts(tenant)
    assert (accounts.get(name, {}).get("status") == "active") is (on_create == "employee")


def _nones(on_create: str, on_deactivate: str) -> int:
    return (on_create == "nothing") + (on_deactivate == "nothing")


@pytest.mark.parametrize("shape", ["okta-patch", "okta-put", "entra-patch-string", "entra-delete"])
async def test_every_deactivation_shape_removes_the_employee(
    shape: str, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")
    scim = ScimClient(http, stack.edge_url, tenant)
    okta, entra = Okta(scim), Entra(scim)
    name = f"bo.{unique}@example.com"
    uid = await okta.create_user(name)
    await wait_for_action(admin, tenant, name, "create-employee")

    if shape == "okta-patch":
        await okta.set_active(uid, False)
    elif shape == "okta-put":
        await okta.deactivate_by_put(uid)
    elif shape == "entra-patch-string":
        await entra.set_active(uid, False)
    else:
        await entra.delete_user(uid)

    entries = await wait_for_action(admin, tenant, name, "remove")
    assert entries[-1].result == "applied"
    assert (await admin.accounts(tenant, include_removed=True))[name]["status"] == "removed"


async def test_entra_hard_delete_after_deactivation_does_not_act_twice(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")
    scim = ScimClient(http, stack.edge_url, tenant)
    name = f"cy.{unique}@example.com"
    uid = await Okta(scim).create_user(name)
    await Entra(scim).set_active(uid, False)
    await wait_for_action(admin, tenant, name, "remove")

    await Entra(scim).delete_user(uid)
    entries = await wait_for_action(admin, tenant, name, "none")
    assert [e.action for e in entries] == ["create-employee", "remove", "none"]
    assert "already ran" in entries[-1].detail

    # The same userName provisioned again is a new directory user, and a new employee.
    await Okta(scim).create_user(name)
    await wait_for_action(admin, tenant, name, "create-employee", occurrence=2)
    assert (await admin.accounts(tenant))[name]["status"] == "active"


async def test_profile_update_follows_user_name_and_entra_reactivation_restores(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")
    scim = ScimClient(http, stack.edge_url, tenant)
    okta = Okta(scim)
    name, renamed = f"di.{unique}@example.com", f"di.renamed.{unique}@example.com"
    uid = await okta.create_user(name)
    await wait_for_action(admin, tenant, name, "create-employee")

    await okta.update_user(uid, userName=renamed)
    await wait_for_action(admin, tenant, renamed, "update-profile")
    accounts = await admin.accounts(tenant)
    assert name not in accounts and accounts[renamed]["status"] == "active"

    await Entra(scim).set_active(uid, False)
    await wait_for_action(admin, tenant, renamed, "remove")
    await Entra(scim).set_active(uid, True)
    await wait_for_action(admin, tenant, renamed, "create-employee", occurrence=2)
    assert (await admin.accounts(tenant))[renamed]["status"] == "active"
