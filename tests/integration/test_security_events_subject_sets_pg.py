"""Issue 15 on real PostgreSQL: the SETs of one subject, as the console's person page lists them, are those
of the (workspace, portal)'s own stream only, newest first, with their receiver, event URIs and delivery
state; a portal without a stream has none, and bad arguments are refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from security_events.adapters.postgres import sets
from security_events.adapters.postgres.keys import KeyStore
from security_events.domain.key_encryption import Sealer
from security_events.errors import InvalidRequest
from security_events.metrics import SetMetrics
from security_events.service_layer.admin import StreamAdmin
from security_events.service_layer.build import CONSUMED, SetBuilder
from security_events.service_layer.receivers_cache import ReceiversCache
from suite_common.metrics import new_registry
from suite_common.pg import create_pool

from tests.support.directory_events import user_event
from tests.support.stack import database_fixture

PROV = "urn:ietf:params:scim:event:prov:"

# Not the session's database: there the session stack's security-events would deliver these SETs and
# change the states this test asserts.
own_database = database_fixture("subjectsets")


@pytest_asyncio.fixture
async def admin(own_database: str) -> AsyncIterator[StreamAdmin]:
    pool = await create_pool(own_database, min_size=1, max_size=4)
    sealer = Sealer("integration-test-secret-0123456789")
    yield StreamAdmin(pool, KeyStore(sealer), sealer, allow_insecure=True)
    await pool.close()


def _event(workspace: str, user: str, version: int, active: bool) -> tuple[str, bytes]:
    envelope = user_event(workspace, user, version, active=active)
    return envelope.event_id, envelope.SerializeToString()


async def _build(admin: StreamAdmin, events: list[bytes]) -> None:
    # A cache that never LISTENs is always bypassed: the group reads the receivers just added.
    uncached = ReceiversCache("postgresql://unused")
    builder = SetBuilder(admin.pool, admin.keys, "https://scim.test", SetMetrics(new_registry()), uncached)
    outcomes = await builder.apply_group([(e, True) for e in events])
    assert [o.kind for o in outcomes] == [CONSUMED] * len(events)


async def test_a_subjects_sets_are_its_portals_own_newest_first_with_their_delivery(
    admin: StreamAdmin,
) -> None:
    ws, other_ws, user = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    stream = await admin.create_stream(ws, "store", "ES256")
    push = await admin.add_receiver(stream, "push", "https://rcv.example/e", "", "", [])
    poll = await admin.add_receiver(stream, "poll", "", "", "", [f"{PROV}patch:notice", f"{PROV}deactivate"])
    other = await admin.add_receiver(
        await admin.create_stream(other_ws, "store", "ES256"), "push", "https://other.example/e", "", "", []
    )
    created, v1 = _event(ws, user, 1, active=True)
    deactivated, v2 = _event(ws, user, 2, active=False)
    # The same subject URI in another workspace, built last (the builder orders a resource's versions
    # across workspaces, hence version 3): never listed for this one.
    _, foreign = _event(other_ws, user, 3, active=True)
    for event in (v1, v2, foreign):
        await _build(admin, [event])

    push_id, poll_id = str(push.row["id"]), str(poll.row["id"])
    async with admin.pool.acquire() as conn:
        jtis: list[asyncpg.Record] = await conn.fetch(
            "SELECT receiver_id, txn, jti FROM security_events.sets WHERE subject = $1", f"/Users/{user}"
        )
        jti = {(str(r["receiver_id"]), r["txn"]): r["jti"] for r in jtis}
        assert await sets.delivered(conn, push_id, [jti[(push_id, created)]]) == 1
        assert await sets.failed(conn, poll_id, jti[(poll_id, deactivated)], "invalid_key: no such key")

    found = await admin.subject_sets(ws, "store", f"/Users/{user.upper()}", 0)
    assert found is not None
    assert [(s.txn, s.receiver_id, s.events, s.state) for s in found] == [
        (deactivated, poll_id, (f"{PROV}deactivate", f"{PROV}patch:notice"), "failed"),
        (deactivated, push_id, (f"{PROV}deactivate", f"{PROV}patch:full"), "pending"),
        (created, push_id, (f"{PROV}activate", f"{PROV}create:full"), "delivered"),
    ], "the poll receiver subscribed to no create event"
    newest, _, oldest = found
    assert (newest.delivery, newest.endpoint_url, newest.audience) == (
        "poll",
        "",
        f"urn:scimsuite:receiver:{poll_id}",
    )
    assert (newest.attempts, newest.last_error, newest.delivered_at) == (1, "invalid_key: no such key", None)
    url = "https://rcv.example/e"
    assert (oldest.delivery, oldest.endpoint_url, oldest.audience) == ("push", url, url)
    assert oldest.delivered_at is not None and oldest.delivered_at >= oldest.created_at
    assert oldest.jti == jti[(push_id, created)] and oldest.last_error == ""

    theirs = await admin.subject_sets(other_ws, "store", f"/Users/{user}", 0)
    assert [s.receiver_id for s in theirs or []] == [str(other.row["id"])]
    assert [s.txn for s in await admin.subject_sets(ws, "store", f"/Users/{user}", 1) or []] == [deactivated]
    assert await admin.subject_sets(ws, "store", f"/Users/{uuid.uuid4()}", 0) == []
    assert await admin.subject_sets(ws, "mdm", f"/Users/{user}", 0) is None, "no stream: none, not empty"


@pytest.mark.parametrize(
    ("workspace", "portal", "subject", "limit", "refusal"),
    [
        ("not-a-uuid", "store", "/Users/{u}", 0, "workspace_id must be a UUID"),
        ("{u}", "shop", "/Users/{u}", 0, "portal must be one of"),
        ("{u}", "store", "/Users/x", 0, "the subject id must be a UUID"),
        ("{u}", "store", "Users/{u}", 0, "subject must be /Users/<id>"),
        ("{u}", "store", "/Devices/{u}", 0, "subject must be /Users/<id>"),
        ("{u}", "store", "/Users/{u}", -1, "limit must not be negative"),
    ],
)
async def test_bad_arguments_are_refused(
    admin: StreamAdmin, workspace: str, portal: str, subject: str, limit: int, refusal: str
) -> None:
    u = str(uuid.uuid4())
    with pytest.raises(InvalidRequest, match=refusal):
        await admin.subject_sets(workspace.format(u=u), portal, subject.format(u=u), limit)
