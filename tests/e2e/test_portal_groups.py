"""Groups as first-class portal objects, and attribute mapping into account metadata."""

from __future__ import annotations

import aiohttp
import grpc
import pytest
from scimsuite.portal.v1 import portal_pb2

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import ENTERPRISE, Okta
from tests.support.portal import groups, wait_for_action
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack

CUSTOM = "urn:ietf:params:scim:schemas:custom:Acme"


async def test_pushed_group_is_a_portal_object_at_once_and_renames_and_deletes_propagate(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    # on-create `nothing`: no account exists, so nobody has logged in or been provisioned.
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="nothing", on_deactivate="nothing")
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    pia, quin = f"pia.{unique}@example.com", f"quin.{unique}@example.com"
    pia_id, quin_id = await okta.create_user(pia), await okta.create_user(quin)

    engineering = await okta.push_group("Engineering", [pia_id, quin_id])
    await okta.push_group("Design", [pia_id])

    async def pushed() -> None:
        assert await groups(admin, tenant) == {"Design": [pia], "Engineering": sorted([pia, quin])}

    await assert_eventually(pushed)
    assert await admin.accounts(tenant) == {}
    assert await groups(admin, tenant, member=quin) == {"Engineering": sorted([pia, quin])}
    assert [e.action for e in await admin.audit(tenant, pia) if e.group_name == "Design"] == ["add-to-group"]

    await okta.rename_group(engineering, "Platform")
    await okta.remove_member(engineering, quin_id)

    async def renamed() -> None:
        assert await groups(admin, tenant) == {"Design": [pia], "Platform": [pia]}

    await assert_eventually(renamed)
    assert await groups(admin, tenant, member=quin) == {}
    group_actions = [(e.action, e.group_name) for e in await admin.audit(tenant) if not e.user_name]
    assert ("group-rename", "Platform") in group_actions

    await okta.delete_group(engineering)

    async def deleted() -> None:
        assert await groups(admin, tenant) == {"Design": [pia]}

    await assert_eventually(deleted)
    newest = (await admin.audit(tenant, pia))[0]
    assert (newest.action, newest.group_name) == ("remove-from-group", "Platform")


async def test_group_memberships_show_on_accounts(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    name = f"ray.{unique}@example.com"
    uid = await okta.create_user(name)
    sales = await okta.push_group("Sales", [uid])
    await okta.push_group("EMEA", [uid])
    await wait_for_action(admin, tenant, name, "add-to-group", occurrence=2)
    assert (await admin.accounts(tenant))[name]["groups"] == ["EMEA", "Sales"]

    await okta.rename_group(sales, "Sales EMEA")
    await okta.delete_group(sales)

    async def followed() -> None:
        assert (await admin.accounts(tenant))[name]["groups"] == ["EMEA"]

    await assert_eventually(followed)


async def _map(admin: Admin, tenant: Tenant, attribute: str, key: str) -> None:
    await admin.portal.MapAttribute(
        portal_pb2.MapAttributeRequest(
            mapping=portal_pb2.AttributeMapping(
                workspace_id=tenant.workspace_id,
                portal=tenant.portal,
                scim_attribute=attribute,
                metadata_key=key,
            )
        ),
        metadata=admin.md,
    )


async def test_enterprise_and_custom_attributes_map_to_metadata_and_unmapped_ones_stay_on_the_user(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "dashboard", on_create="collaborator", on_deactivate="remove")
    await _map(admin, tenant, f"{ENTERPRISE}:department", "department")
    await _map(admin, tenant, f"{ENTERPRISE}:manager.value", "managerId")
    await _map(admin, tenant, f"{CUSTOM}:costCenter", "costCenter")
    await _map(admin, tenant, "name.givenName", "firstName")
    await _map(admin, tenant, "emails", "contact")
    scim = ScimClient(http, stack.edge_url, tenant)
    okta = Okta(scim)
    name = f"sue.{unique}@example.com"
    uid = await okta.create_user(
        name,
        **{
            ENTERPRISE: {"department": "R&D", "manager": {"value": "mgr-1"}},
            CUSTOM: {"costCenter": "CC-42", "badge": "B-7"},
        },
    )
    await wait_for_action(admin, tenant, name, "create-collaborator")
    account = (await admin.accounts(tenant))[name]
    assert account["metadata"] == {
        "department": "R&D",
        "managerId": "mgr-1",
        "costCenter": "CC-42",
        "firstName": "Sue",
        "contact": name,
    }
    stored = (await scim.get(f"/Users/{uid}")).json
    assert stored[CUSTOM] == {"costCenter": "CC-42", "badge": "B-7"}  # the unmapped `badge` is kept

    await okta.update_user(uid, **{ENTERPRISE: {"department": "Sales"}, CUSTOM: {"costCenter": "CC-7"}})
    await wait_for_action(admin, tenant, name, "update-profile")
    account = (await admin.accounts(tenant))[name]
    assert account["metadata"] == {
        "department": "Sales",
        "costCenter": "CC-7",
        "firstName": "Sue",
        "contact": name,
    }
    assert account["role"] == "viewer"  # a profile update never touches the role


@pytest.mark.parametrize(
    ("attribute", "key"),
    [
        ("title", "role"),
        ("title", "userName"),
        ("title", " "),
        ("password", "pw"),
        ("groups", "teams"),
    ],
)
async def test_a_rejected_attribute_mapping_leaves_the_previous_one_in_force(
    attribute: str, key: str, admin: Admin, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")
    await _map(admin, tenant, "title", "jobTitle")
    with pytest.raises(grpc.aio.AioRpcError) as rejected:
        await _map(admin, tenant, attribute, key)
    assert rejected.value.code() == grpc.StatusCode.INVALID_ARGUMENT and rejected.value.details()
    reply = await admin.portal.ListAttributeMappings(
        portal_pb2.ListAttributeMappingsRequest(workspace_id=tenant.workspace_id, portal="store"),
        metadata=admin.md,
    )
    assert [(m.scim_attribute, m.metadata_key) for m in reply.mappings] == [("title", "jobTitle")]
