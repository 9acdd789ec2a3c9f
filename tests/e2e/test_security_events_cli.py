"""Issue 15: `scimctl --json streams …` as an operator runs it, end to end to a polling receiver."""

from __future__ import annotations

import aiohttp

from tests.support.admin import Tenant
from tests.support.eventually import assert_eventually
from tests.support.idp import Okta
from tests.support.scim_client import ScimClient
from tests.support.scimctl import scimctl, scimctl_ok
from tests.support.set_receiver import PROV, PollReceiver, Verifier
from tests.support.stack import Stack

RECEIVER_KEYS = {"id", "delivery", "endpoint_url", "audience", "events", "stats"}
STATS_KEYS = {"pending", "delivered", "failed", "dead", "lag_seconds", "last_error"}
SET_KEYS = {"jti", "txn", "receiver_id", "delivery", "audience", "endpoint_url", "events", "state"}
SET_KEYS |= {"attempts", "last_error", "created_at", "delivered_at"}


async def test_streams_through_the_cli(http: aiohttp.ClientSession, stack: Stack, unique: str) -> None:
    ws = f"ws-cli-set-{unique}"
    await scimctl_ok(stack, "workspace", "create", ws)
    enabled = await scimctl_ok(stack, "scim", "enable", "-w", ws, "-p", "mdm")
    stream = await scimctl_ok(stack, "streams", "create", "-w", ws, "-p", "mdm", "--alg", "RS256")
    assert set(stream) == {"id", "workspace_id", "portal", "alg", "jwks_path", "kids", "receivers"}
    assert (stream["portal"], stream["alg"], len(stream["kids"]), stream["receivers"]) == (
        "mdm",
        "RS256",
        1,
        [],
    )

    again = await scimctl(stack, "streams", "create", "-w", ws, "-p", "mdm")
    assert again.code == 1 and "already has a stream" in again.out["error"]
    unknown = await scimctl(
        stack, "streams", "receivers", "add", stream["id"], "--delivery", "poll", "--event", "x"
    )
    assert unknown.code == 2 and "unknown event URI" in unknown.out["error"]

    added = await scimctl_ok(
        stack,
        "streams",
        "receivers",
        "add",
        stream["id"],
        "--delivery",
        "poll",
        "--event",
        "URN:IETF:PARAMS:SCIM:EVENT:PROV:CREATE:NOTICE",
    )
    receiver = added["receiver"]
    assert set(receiver) == RECEIVER_KEYS and receiver["events"] == [f"{PROV}create:notice"]
    assert added["poll_token"]

    tenant = Tenant(
        enabled["workspace_id"], ws, "mdm", enabled["base_url"], enabled["token"], enabled["connection_id"]
    )
    uid = await Okta(ScimClient(http, stack.edge_url, tenant)).create_user(f"cli.{unique}@okta.local")
    poller = PollReceiver(
        http,
        stack.edge_url,
        added["poll_token"],
        Verifier(http, f"{stack.edge_url}{stream['jwks_path']}"),
        tenant.base_url,
    )
    poller.audience = receiver["audience"]

    async def polled() -> None:
        await poller.poll()
        assert [c["sub_id"]["uri"] for c in poller.received.sets] == [f"/Users/{uid}"]

    await assert_eventually(polled, timeout=30)
    await poller.poll(max_events=0)

    async def acked() -> None:
        shown = await scimctl_ok(stack, "streams", "show", stream["id"])
        stats = shown["receivers"][0]["stats"]
        assert set(stats) == STATS_KEYS and stats["delivered"] == 1 and stats["pending"] == 0, stats

    await assert_eventually(acked)
    subject = ["--subject", f"/Users/{uid}"]
    built = await scimctl_ok(stack, "streams", "sets", "-w", ws, "-p", "mdm", *subject)
    [sent] = built["sets"]
    assert built["has_stream"] is True and set(sent) == SET_KEYS
    assert (sent["receiver_id"], sent["delivery"], sent["audience"], sent["state"]) == (
        receiver["id"],
        "poll",
        receiver["audience"],
        "delivered",
    )
    assert sent["events"] == [f"{PROV}create:notice"] and sent["txn"] and sent["delivered_at"]
    assert sent["jti"] == poller.received.sets[0]["jti"] and sent["txn"] == poller.received.sets[0]["txn"]
    elsewhere = await scimctl_ok(stack, "streams", "sets", "-w", ws, "-p", "store", *subject)
    assert elsewhere == {"sets": [], "has_stream": False}
    bad = await scimctl(stack, "streams", "sets", "-w", ws, "-p", "mdm", "--subject", f"/Devices/{uid}")
    assert bad.code == 2 and "subject must be /Users/<id>" in bad.out["error"]
    listed = await scimctl_ok(stack, "streams", "list", "-w", ws)
    assert [s["id"] for s in listed["streams"]] == [stream["id"]]

    rotated = await scimctl_ok(stack, "streams", "rotate-key", stream["id"], "--overlap", "1h")
    assert len(rotated["kids"]) == 2 and stream["kids"][0] in rotated["kids"]

    assert await scimctl_ok(stack, "streams", "receivers", "remove", receiver["id"]) == {
        "removed": receiver["id"]
    }
    assert await scimctl_ok(stack, "streams", "delete", stream["id"]) == {"deleted": stream["id"]}
    gone = await scimctl(stack, "streams", "show", stream["id"])
    assert gone.code == 1 and "no stream" in gone.out["error"]
