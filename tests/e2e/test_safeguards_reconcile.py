"""Reconciliation over real services and Okta-shaped traffic: drift induced behind the suite's back (a portal
row removed, memberships changed directly in the portal schema, a stray device assignment) is reported
exactly, repaired once (audited as repair, old effects not re-run), and the report is empty afterwards;
leaving dry run by reconciling; dead letters replayed one by one and all."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import grpc
import pytest
from scimsuite.events.v1 import events_pb2
from scimsuite.portal.v1 import portal_pb2

from tests.support.admin import Admin, Tenant
from tests.support.idp import Okta
from tests.support.portal import audit_entries, devices, groups, wait_for_action
from tests.support.scim_client import ScimClient
from tests.support.scimctl import scimctl, scimctl_ok
from tests.support.stack import Stack


async def _reconcile(stack: Stack, tenant: Tenant, *extra: str) -> dict[str, Any]:
    result = await scimctl(
        stack,
        "reconcile",
        "--workspace",
        tenant.workspace,
        "--portal",
        tenant.portal,
        "--page-size",
        "2",
        *extra,
    )
    assert result.code == 0, result
    # Progress is shown page by page on stderr, the report alone on stdout.
    assert "reconcile: " in result.stderr and result.stderr.strip().endswith("done"), result.stderr
    out: dict[str, Any] = result.out
    return out


def _found(report: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {(d["kind"], d["userName"], d["group"]) for d in report["differences"]}


async def test_drift_behind_the_suites_back_is_reported_exactly_and_repaired(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    alice, bob, carol, dave = (f"{n}.{unique}@example.com" for n in ("alice", "bob", "carol", "dave"))
    ids = {n: await okta.create_user(n) for n in (alice, bob, carol, dave)}
    group = await okta.push_group("Engineering", [ids[alice], ids[bob]])
    await okta.set_active(ids[dave], False)
    await wait_for_action(admin, tenant, dave, "remove")
    await wait_for_action(admin, tenant, bob, "add-to-group")
    clean = await _reconcile(stack, tenant)
    assert (clean["count"], clean["scanned_users"], clean["pending_users"]) == (0, 4, 0), clean

    conn = await asyncpg.connect(stack.database_url)
    try:
        # A portal row removed, memberships changed and metadata edited directly in the portal schema.
        await conn.execute("DELETE FROM portal.accounts WHERE user_id = $1", ids[carol])
        await conn.execute(
            "UPDATE portal.group_members SET is_member = false WHERE group_id = $1 AND user_id = $2",
            group,
            ids[bob],
        )
        await conn.execute(
            "INSERT INTO portal.group_members (group_id, user_id, is_member, version) "
            "VALUES ($1, $2, true, 1)",
            group,
            ids[carol],
        )
        await conn.execute(
            "UPDATE portal.accounts SET metadata = $2 WHERE user_id = $1", ids[alice], json.dumps({"x": 1})
        )
    finally:
        await conn.close()

    expected = {
        ("missing-account", carol, None),
        ("metadata-difference", alice, None),
        ("membership-missing", bob, "Engineering"),
        ("membership-extra", carol, "Engineering"),
    }
    report = await _reconcile(stack, tenant)
    assert _found(report) == expected and report["count"] == 4
    assert not any(d["repaired"] for d in report["differences"])
    missing = next(d for d in report["differences"] if d["kind"] == "missing-account")
    assert (missing["expected"], missing["actual"]) == ("employee account", "no account")

    repaired = await _reconcile(stack, tenant, "--repair")
    assert _found(repaired) == expected and repaired["repaired"] == 4
    assert (await _reconcile(stack, tenant))["count"] == 0

    accounts = await admin.accounts(tenant)
    assert set(accounts) == {alice, bob, carol} and accounts[alice]["metadata"] == {}
    assert (await groups(admin, tenant))["Engineering"] == sorted([alice, bob])
    repairs = [e for e in await admin.audit(tenant) if e.mode == "repair"]
    assert sorted((e.user_name, e.action) for e in repairs) == sorted(
        [
            (carol, "create-employee"),
            (alice, "update-profile"),
            (bob, "add-to-group"),
            (carol, "remove-from-group"),
        ]
    )
    assert all(e.reason.startswith("repair: ") for e in repairs)
    # A user removed long ago is not removed again.
    assert [e.action for e in await audit_entries(admin, tenant, dave)] == ["create-employee", "remove"]
    # A second repair finds nothing to do.
    assert (await _reconcile(stack, tenant, "--repair"))["repaired"] == 0


async def test_mdm_drift_is_repaired_without_deleting_devices_again(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await admin.enable(
        workspace, "mdm", on_create="employee", on_deactivate="remove-user-and-devices"
    )
    eve, fay = f"eve.{unique}@example.com", f"fay.{unique}@example.com"
    for serial, user in (("E-1", eve), ("F-1", fay)):
        device = portal_pb2.Device(workspace_id=tenant.workspace_id, serial=serial, user_name=user)
        await admin.portal.AddDevice(portal_pb2.AddDeviceRequest(device=device), metadata=admin.md)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    eve_id = await okta.create_user(eve)
    await okta.create_user(fay)
    await okta.set_active(eve_id, False)
    await wait_for_action(admin, tenant, eve, "remove-user-and-devices")
    await wait_for_action(admin, tenant, fay, "create-employee")
    assert "E-1" not in await devices(admin, tenant)

    conn = await asyncpg.connect(stack.database_url)
    try:
        # The account comes back behind our back, and the admin's spare device is assigned to Eve.
        await conn.execute("UPDATE portal.accounts SET status = 'active' WHERE user_id = $1", eve_id)
        await conn.execute(
            "INSERT INTO portal.devices (workspace_id, serial, user_name) VALUES ($1, 'SPARE', $2)",
            tenant.workspace_id,
            eve,
        )
    finally:
        await conn.close()

    report = await _reconcile(stack, tenant, "--repair")
    assert _found(report) == {("account-should-be-gone", eve, None), ("devices-still-assigned", eve, None)}
    assert report["repaired"] == 2
    assert (await _reconcile(stack, tenant))["count"] == 0
    # The repair unassigned the spare device rather than deleting it; Fay's device was never touched.
    registry = await devices(admin, tenant)
    assert registry["SPARE"] == ("", "") and registry["F-1"] == (fay, "")
    assert eve not in await admin.accounts(tenant)


async def test_leaving_dry_run_by_reconciling_applies_the_current_directory_state(
    admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    workspace = f"ws-{unique}"
    tenant = await admin.enable(workspace, "store", on_create="employee", on_deactivate="remove")
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    kept, during = f"kept.{unique}@example.com", f"during.{unique}@example.com"
    kept_id = await okta.create_user(kept)
    await wait_for_action(admin, tenant, kept, "create-employee")
    base = ("scim", "configure", "--workspace", workspace, "--portal", "store")
    await scimctl_ok(stack, *base, "--dry-run", "on")
    await okta.set_active(kept_id, False)
    await okta.create_user(during)
    await wait_for_action(admin, tenant, kept, "remove")
    await wait_for_action(admin, tenant, during, "create-employee")
    assert set(await admin.accounts(tenant)) == {kept}

    off = await scimctl_ok(stack, *base, "--dry-run", "off", "--on-leave", "reconcile")
    assert off["dry_run"]["enabled"] is False
    assert (off["dry_run"]["differences"], off["dry_run"]["repaired"]) == (2, 2)
    assert set(await admin.accounts(tenant)) == {during}
    assert (await _reconcile(stack, tenant))["count"] == 0
    modes = [(e.action, e.mode) for e in await audit_entries(admin, tenant, kept)]
    assert modes == [("create-employee", "live"), ("remove", "dry-run"), ("remove", "repair")]


def _envelope(tenant: Tenant, user_name: str) -> bytes:
    user_id = str(uuid.uuid4())
    env = events_pb2.EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type="UserCreated",
        occurred_at=datetime.now(UTC).isoformat(),
        workspace_id=tenant.workspace_id,
        connection_id=tenant.connection_id,
        portal=tenant.portal,
        resource_kind=events_pb2.RESOURCE_KIND_USER,
        change=events_pb2.CHANGE_KIND_CREATED,
        resource_id=user_id,
        resource_version=1,
        state_json=json.dumps({"id": user_id, "userName": user_name, "active": True}).encode(),
    )
    return env.SerializeToString()


async def test_dead_letters_are_replayed_one_by_one_and_all(admin: Admin, stack: Stack, unique: str) -> None:
    tenant = await admin.enable(f"ws-{unique}", "store", on_create="employee", on_deactivate="remove")
    first, second = f"dl1.{unique}@example.com", f"dl2.{unique}@example.com"
    conn = await asyncpg.connect(stack.database_url)
    ids = {first: f"dl-{unique}-1", second: f"dl-{unique}-2", "poison": f"dl-{unique}-3"}
    try:
        # What the consumer leaves after giving up on events: their payloads, kept for a replay.
        for key, payload in ((first, _envelope(tenant, first)), (second, _envelope(tenant, second))):
            await conn.execute(
                "INSERT INTO portal.dead_letters (event_id, subject, error, deliveries, payload) "
                "VALUES ($1, 's', 'e', 5, $2)",
                ids[key],
                payload,
            )
        await conn.execute(
            "INSERT INTO portal.dead_letters (event_id, subject, error, deliveries, payload) "
            "VALUES ($1, 's', 'e', 5, $2)",
            ids["poison"],
            b"\xff not an event",
        )
    finally:
        await conn.close()

    one = await scimctl_ok(stack, "dead-letters", "replay", "--event-id", ids[first])
    assert one["replayed"] == [
        {"event_id": ids[first], "applied": True, "error": None, "actions": ["create-employee"]}
    ]
    assert set(await admin.accounts(tenant)) == {first}
    again = await scimctl(stack, "dead-letters", "replay", "--event-id", ids[first])
    assert again.code == 1 and "no dead letter" in again.out["error"]

    everything = await scimctl_ok(stack, "dead-letters", "replay", "--all")
    mine = {r["event_id"]: r for r in everything["replayed"] if r["event_id"] in ids.values()}
    assert mine[ids[second]]["applied"] is True
    assert mine[ids["poison"]]["applied"] is False and mine[ids["poison"]]["error"]
    assert set(await admin.accounts(tenant)) == {first, second}
    left = {d["event_id"] for d in (await scimctl_ok(stack, "dead-letters"))["dead_letters"]}
    assert ids["poison"] in left and ids[first] not in left and ids[second] not in left
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await admin.portal.ReplayDeadLetters(portal_pb2.ReplayDeadLettersRequest(), metadata=admin.md)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_reconcile_of_an_unknown_portal_is_a_clear_error(stack: Stack, unique: str) -> None:
    await scimctl_ok(stack, "workspace", "create", f"ws-{unique}")
    result = await scimctl(stack, "reconcile", "--workspace", f"ws-{unique}", "--portal", "mdm")
    assert result.code == 1 and "SCIM was never enabled" in result.out["error"]
    assert "Traceback" not in result.stderr
