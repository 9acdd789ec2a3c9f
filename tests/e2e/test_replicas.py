"""Two replicas of every service against one PostgreSQL and one NATS: no event lost, none applied twice."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import asyncpg

from tests.support.admin import Admin
from tests.support.eventually import assert_eventually
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack, stack_fixture

USERS = 60


# Half the users are deactivated at once, which the mass-deactivation guard would (rightly) hold.
replicated = stack_fixture("replicas", replicas=2, env={"PORTAL_GUARD_DEFAULT": "off"})


async def test_two_replicas_apply_each_event_exactly_once(
    replicated: Stack, http: aiohttp.ClientSession
) -> None:
    admin = Admin(replicated)
    try:
        tenant = await admin.enable("replicas", "store", on_create="employee", on_deactivate="remove")
        clients = [ScimClient(http, url, tenant) for url in replicated.edge_urls]

        async def create(i: int) -> str:
            resp = await clients[i % 2].post(
                "/Users", {"userName": f"replica-{i}@example.com", "active": True}
            )
            assert resp.status == 201, resp
            return str(resp.json["id"])

        ids = await asyncio.gather(*(create(i) for i in range(USERS)))
        # Deactivate half through the other edge, so both consumers see creates and removals interleaved.
        deactivated = ids[: USERS // 2]
        for i, uid in enumerate(deactivated):
            resp = await clients[(i + 1) % 2].patch(
                f"/Users/{uid}",
                {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "value": {"active": False}}],
                },
            )
            assert resp.status == 200, resp

        async def settled() -> dict[str, dict[str, object]]:
            accounts = await admin.accounts(tenant, include_removed=True)
            assert len(accounts) == USERS
            removed = {name for name, a in accounts.items() if a["status"] == "removed"}
            assert removed == {f"replica-{i}@example.com" for i in range(USERS // 2)}
            return accounts

        await assert_eventually(settled, timeout=30)
        entries = await admin.audit(tenant)
        per_action = Counter((e.user_name, e.action) for e in entries)
        assert all(n == 1 for n in per_action.values()), [k for k, n in per_action.items() if n > 1]
        assert sum(1 for (_, action) in per_action if action == "create-employee") == USERS
        assert sum(1 for (_, action) in per_action if action == "remove") == USERS // 2

        conn = await asyncpg.connect(replicated.database_url)
        try:

            async def outbox_drained() -> None:
                assert await conn.fetchval("SELECT count(*) FROM directory.outbox") == 0

            await assert_eventually(outbox_drained)
            applied = await conn.fetchval("SELECT count(*) FROM portal.processed_events")
            assert applied == USERS + USERS // 2
        finally:
            await conn.close()
    finally:
        await admin.close()
