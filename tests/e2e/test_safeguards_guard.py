"""The mass-deactivation guard over real services and Okta-shaped traffic: a burst of deactivations trips it
after the threshold while creates keep flowing; held actions survive a kill -9 of portal-actions; a release
applies each exactly once, a discard applies none; nonsense thresholds are refused.

The module runs its own stack, so it can read portal-actions' /metrics and kill it without disturbing
the session's stack.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import TypeVar

import aiohttp
import pytest
import pytest_asyncio
from devstack.services import wait_grpc_serving
from prometheus_client.parser import text_string_to_metric_families
from suite_common.embedded.processes import free_port

from tests.support.admin import Admin, Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import Okta
from tests.support.portal import groups
from tests.support.scim_client import ScimClient
from tests.support.scimctl import scimctl, scimctl_ok
from tests.support.servers import Servers
from tests.support.stack import Stack, own_stack

T = TypeVar("T")
BURST = 200
THRESHOLD = 20


@pytest_asyncio.fixture(scope="module")
async def guarded(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[tuple[Stack, int]]:
    metrics_port = free_port()
    # A killed consumer's unacked events come back after 5 s rather than 30.
    env = {"PORTAL_METRICS_PORT": str(metrics_port), "PORTAL_ACK_WAIT_SECONDS": "5"}
    async with own_stack(request, servers, "guard", env=env) as stack:
        yield stack, metrics_port


@pytest_asyncio.fixture
async def gadmin(guarded: tuple[Stack, int]) -> AsyncIterator[Admin]:
    a = Admin(guarded[0])
    yield a
    await a.close()


async def _bounded(calls: list[Callable[[], Awaitable[T]]], width: int = 6) -> list[T]:
    gate = asyncio.Semaphore(width)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


async def _store(gadmin: Admin, stack: Stack, workspace: str, max_actions: int) -> Tenant:
    tenant = await gadmin.enable(workspace, "store", on_create="employee", on_deactivate="remove")
    out = await scimctl_ok(
        stack,
        "guard",
        "set",
        "--workspace",
        workspace,
        "--portal",
        "store",
        "--max-actions",
        str(max_actions),
        "--max-percent",
        "100",
    )
    assert (out["enabled"], out["max_actions"], out["max_percent"], out["explicit"]) == (
        True,
        max_actions,
        100.0,
        True,
    )
    return tenant


async def _create(okta: Okta, gadmin: Admin, tenant: Tenant, names: list[str]) -> list[str]:
    ids = await _bounded([partial(okta.create_user, n) for n in names])

    async def provisioned() -> None:
        accounts = await gadmin.accounts(tenant)
        assert all(accounts.get(n, {}).get("status") == "active" for n in names), len(accounts)

    await assert_eventually(provisioned, timeout=120)
    return ids


async def _guard(stack: Stack, workspace: str) -> dict[str, object]:
    out: dict[str, object] = await scimctl_ok(
        stack, "guard", "show", "--workspace", workspace, "--portal", "store", "--sample", "500"
    )
    return out


async def _actions(gadmin: Admin, tenant: Tenant) -> Counter[tuple[str, str, str]]:
    """(userName, action, mode) → how often it was audited."""
    return Counter((e.user_name, e.action, e.mode) for e in await gadmin.audit(tenant))


async def _held_metric(http: aiohttp.ClientSession, port: int, tenant: Tenant) -> float:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        text = await resp.text()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "portal_guard_held_actions" and s.labels == {
                "workspace": tenant.workspace_id,
                "portal": "store",
            }:
                return float(s.value)
    return -1.0


async def test_a_burst_of_deactivations_is_held_after_the_threshold_then_released_once_each(
    guarded: tuple[Stack, int], gadmin: Admin, http: aiohttp.ClientSession, unique: str
) -> None:
    stack, metrics_port = guarded
    workspace = f"burst-{unique}"
    tenant = await _store(gadmin, stack, workspace, THRESHOLD)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    names = [f"b{i:03d}.{unique}@example.com" for i in range(BURST)]
    ids = await _create(okta, gadmin, tenant, names)

    await _bounded([partial(okta.set_active, uid, False) for uid in ids])

    async def tripped() -> dict[str, object]:
        g = await _guard(stack, workspace)
        assert g["held"] == BURST - THRESHOLD, g["held"]
        return g

    status = await assert_eventually(tripped, timeout=120)
    assert status["recent_actions"] == THRESHOLD and status["held_since"]
    accounts = await gadmin.accounts(tenant)
    assert sum(1 for n in names if n in accounts) == BURST - THRESHOLD
    counts = await _actions(gadmin, tenant)
    assert sum(counts[(n, "remove", "live")] for n in names) == THRESHOLD
    assert sum(counts[(n, "hold", "live")] for n in names) == BURST - THRESHOLD
    held_names = {str(h["userName"]) for h in status["sample"]}  # type: ignore[attr-defined]
    assert len(held_names) == BURST - THRESHOLD
    assert all(h["action"] == "remove" for h in status["sample"])  # type: ignore[attr-defined]

    async def metric_says_held() -> None:
        assert await _held_metric(http, metrics_port, tenant) == BURST - THRESHOLD

    await assert_eventually(metric_says_held, timeout=30)

    # Non-destructive events keep flowing while the connection is held: creates, profile updates, groups.
    late = [f"late{i}.{unique}@example.com" for i in range(3)]
    late_ids = await _create(okta, gadmin, tenant, late)
    renamed = f"late-renamed.{unique}@example.com"
    await okta.update_user(late_ids[0], userName=renamed)
    await okta.push_group(f"Late-{unique}", late_ids)
    late = [renamed, *late[1:]]

    async def flowed() -> None:
        assert renamed in await gadmin.accounts(tenant)
        assert (await groups(gadmin, tenant)).get(f"Late-{unique}") == sorted(late)

    await assert_eventually(flowed)
    assert (await _guard(stack, workspace))["held"] == BURST - THRESHOLD
    # A reactivation cancels its user's held deactivation; the account was never removed.
    back_name = sorted(held_names)[0]
    back = ids[names.index(back_name)]
    await okta.set_active(back, True)

    async def cancelled() -> None:
        assert (await _actions(gadmin, tenant))[(back_name, "hold-cancelled", "live")] == 1
        assert (await _guard(stack, workspace))["held"] == BURST - THRESHOLD - 1

    await assert_eventually(cancelled)

    released = await scimctl_ok(
        stack, "guard", "release", "--workspace", workspace, "--portal", "store", "--by", "ops-alice"
    )
    assert (released["released"], released["cancelled"]) == (BURST - THRESHOLD - 1, 0)
    assert {o["userName"] for o in released["outcomes"]} == held_names - {back_name}
    assert all((o["action"], o["result"]) == ("remove", "applied") for o in released["outcomes"])

    accounts = await gadmin.accounts(tenant)
    assert set(accounts) == {back_name, *late}
    counts = await _actions(gadmin, tenant)
    for name in names:
        live, again = counts[(name, "remove", "live")], counts[(name, "remove", "released")]
        if name == back_name:
            assert (live, again) == (0, 0)
        else:
            assert live + again == 1, (name, live, again)
    audit = [e for e in await gadmin.audit(tenant) if e.mode == "released"]
    assert all(e.reason.startswith("released by ops-alice; held UserUpdated") for e in audit), audit[0]
    after = await _guard(stack, workspace)
    assert (after["held"], after["recent_actions"]) == (0, 0)
    # A second release finds nothing left: nothing is applied twice.
    again = await scimctl_ok(stack, "guard", "release", "--workspace", workspace, "--portal", "store")
    assert again["released"] == 0


async def test_discard_applies_nothing_and_a_killed_portal_actions_loses_no_held_action(
    guarded: tuple[Stack, int], gadmin: Admin, http: aiohttp.ClientSession, unique: str
) -> None:
    stack, _ = guarded
    workspace = f"kill-{unique}"
    tenant = await _store(gadmin, stack, workspace, 3)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    names = [f"k{i:02d}.{unique}@example.com" for i in range(16)]
    ids = await _create(okta, gadmin, tenant, names)

    await _bounded([partial(okta.set_active, uid, False) for uid in ids[:8]])

    async def some_held() -> None:
        assert (await _guard(stack, workspace))["held"] == 5

    await assert_eventually(some_held, timeout=60)
    # kill -9 while actions are held, and deactivate the rest while portal-actions is down.
    portal = stack.portals[0]
    await asyncio.to_thread(portal.kill)
    await _bounded([partial(okta.set_active, uid, False) for uid in ids[8:]])
    await asyncio.to_thread(portal.start)
    assert await asyncio.to_thread(wait_grpc_serving, stack.portal_addr, 30)

    async def all_held() -> None:
        assert (await _guard(stack, workspace))["held"] == 13

    await assert_eventually(all_held, timeout=90)
    counts = await _actions(gadmin, tenant)
    assert sum(counts[(n, "remove", "live")] for n in names) == 3
    assert sum(counts[(n, "hold", "live")] for n in names) == 13

    discarded = await scimctl_ok(
        stack, "guard", "discard", "--workspace", workspace, "--portal", "store", "--by", "ops-bob"
    )
    assert discarded["discarded"] == 13 and discarded["released"] == 0
    accounts = await gadmin.accounts(tenant)
    assert len([n for n in names if n in accounts]) == 13
    counts = await _actions(gadmin, tenant)
    assert sum(counts[(n, "hold-discarded", "live")] for n in names) == 13
    assert sum(counts[(n, "remove", "live")] + counts[(n, "remove", "released")] for n in names) == 3
    entry = next(e for e in await gadmin.audit(tenant) if e.action == "hold-discarded")
    assert "discarded by ops-bob" in entry.detail
    assert (await _guard(stack, workspace))["held"] == 0


async def test_nonsense_thresholds_are_refused_and_the_old_setting_stays(
    guarded: tuple[Stack, int], gadmin: Admin, unique: str
) -> None:
    stack, _ = guarded
    workspace = f"nonsense-{unique}"
    await gadmin.enable(workspace, "store", on_create="employee", on_deactivate="remove")
    default = await _guard(stack, workspace)
    # The defaults an admin would accept: on, 50 actions or 10 % an hour.
    assert (default["enabled"], default["max_actions"], default["max_percent"]) == (True, 50, 10.0)
    assert (default["window_seconds"], default["explicit"]) == (3600, False)
    base = ("guard", "set", "--workspace", workspace, "--portal", "store")
    await scimctl_ok(stack, *base, "--max-actions", "30", "--max-percent", "5")
    for bad, message in (
        (("--max-percent", "150"), "max percent must be above 0 and at most 100"),
        (("--max-percent", "-1"), "max percent must be above 0 and at most 100"),
        (("--max-percent", "0"), "max percent must be above 0 and at most 100"),
        (("--max-actions", "-5"), "max actions must be at least 1"),
        (("--window", "0s"), "the window must be at least 1 second"),
    ):
        result = await scimctl(stack, *base, *bad)
        assert result.code == 2 and message in result.out["error"], (bad, result)
        assert "Traceback" not in result.stderr
    kept = await _guard(stack, workspace)
    assert (kept["max_actions"], kept["max_percent"], kept["enabled"]) == (30, 5.0, True)
    off = await scimctl_ok(stack, *base, "--off")
    assert off["enabled"] is False and off["max_actions"] == 30
    unknown = await scimctl(stack, "guard", "show", "--workspace", f"nowhere-{unique}", "--portal", "store")
    assert unknown.code != 0 and unknown.out["error"] and "Traceback" not in unknown.stderr


async def test_a_release_racing_reactivations_never_overwrites_the_newer_state(
    guarded: tuple[Stack, int], gadmin: Admin, http: aiohttp.ClientSession, unique: str
) -> None:
    stack, _ = guarded
    workspace = f"race-{unique}"
    tenant = await _store(gadmin, stack, workspace, 5)
    okta = Okta(ScimClient(http, stack.edge_url, tenant))
    names = [f"r{i:02d}.{unique}@example.com" for i in range(30)]
    ids = await _create(okta, gadmin, tenant, names)
    await _bounded([partial(okta.set_active, uid, False) for uid in ids])

    async def held() -> None:
        assert (await _guard(stack, workspace))["held"] == 25

    await assert_eventually(held, timeout=60)
    status = await _guard(stack, workspace)
    held_names = sorted(str(h["userName"]) for h in status["sample"])  # type: ignore[attr-defined]
    back = held_names[::2]

    # The release and the reactivations of half the held users race each other.
    release = asyncio.create_task(
        scimctl(stack, "guard", "release", "--workspace", workspace, "--portal", "store", "--by", "ops-carol")
    )
    await _bounded([partial(okta.set_active, ids[names.index(n)], True) for n in back])
    result = await release
    assert result.code == 0, result

    async def settled() -> None:
        accounts = await gadmin.accounts(tenant)
        # Whatever the interleaving, the newest directory state wins: reactivated users have an account,
        # the others none.
        assert {n for n in names if accounts.get(n, {}).get("status") == "active"} == set(back)
        assert (await _guard(stack, workspace))["held"] == 0

    await assert_eventually(settled, timeout=60)
    counts = await _actions(gadmin, tenant)
    for name in set(held_names) - set(back):
        assert counts[(name, "remove", "live")] + counts[(name, "remove", "released")] == 1, name
