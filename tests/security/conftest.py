"""A stack of its own for the security tests (its logs hold only their traffic, at DEBUG where the service
allows it, and its body limit is small so that 413s are cheap), and a seeded victim tenant next to two
attackers: another portal of the same workspace, and another workspace.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import asyncpg
import pytest_asyncio

from tests.support.admin import Admin, Tenant
from tests.support.scim_client import ScimClient
from tests.support.stack import Stack, stack_fixture

MAX_BODY = 64 * 1024


@dataclass
class World:
    stack: Stack
    admin: Admin
    session: aiohttp.ClientSession
    victim: Tenant
    same_workspace: Tenant  # the victim's workspace, another portal
    other_workspace: Tenant  # another workspace, the same portal
    user_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    user_names: list[str] = field(default_factory=list)

    def client(self, tenant: Tenant) -> ScimClient:
        return ScimClient(self.session, self.stack.edge_url, tenant)

    @property
    def tokens(self) -> list[str]:
        return [t.token for t in (self.victim, self.same_workspace, self.other_workspace)]


def all_logs(stack: Stack) -> str:
    """Every line every service of the stack logged so far."""
    return "\n".join(p.read_text(errors="replace") for p in sorted(stack.log_dir.glob("*.log")))


async def fingerprint(stack: Stack, connection_id: str) -> list[tuple[object, ...]]:
    """Everything a tenant owns, read with SQL: any change to it shows as a different list."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT 'u', id::text, version::text, doc::text FROM directory.users
             WHERE connection_id = $1::uuid
            UNION ALL
            SELECT 'g', id::text, version::text, doc::text FROM directory.groups
             WHERE connection_id = $1::uuid
            UNION ALL
            SELECT 'm', group_id::text, user_id::text, '' FROM directory.memberships
             WHERE connection_id = $1::uuid
            UNION ALL
            SELECT 't', id::text, coalesce(revoked_at::text, ''), coalesce(expires_at::text, '')
              FROM directory.tokens WHERE connection_id = $1::uuid
            UNION ALL
            SELECT 'c', id::text, enabled::text, custom_schemas::text FROM directory.connections
             WHERE id = $1::uuid
            ORDER BY 1, 2, 3
            """,
            connection_id,
        )
        return [tuple(r) for r in rows]
    finally:
        await conn.close()


sec_stack = stack_fixture(
    "security",
    env={
        "EDGE_MAX_BODY_BYTES": str(MAX_BODY),
        "SCIM_BULK_MAX_PAYLOAD_BYTES": str(MAX_BODY),
        "LOG_LEVEL": "DEBUG",
    },
    scope="package",
)


@pytest_asyncio.fixture(scope="package")
async def world(sec_stack: Stack) -> AsyncIterator[World]:
    admin = Admin(sec_stack)
    suffix = uuid.uuid4().hex[:6]
    try:
        victim = await admin.enable(f"victim-{suffix}", "store", on_create="employee", on_deactivate="remove")
        same = await admin.enable(f"victim-{suffix}", "dashboard")
        other = await admin.enable(f"attacker-{suffix}", "store")
        async with aiohttp.ClientSession() as session:
            w = World(sec_stack, admin, session, victim, same, other)
            scim = w.client(victim)
            for i in range(3):
                name = f"victim{i}@victim.test"
                resp = await scim.post(
                    "/Users", {"userName": name, "externalId": f"ext-{i}", "title": "secret"}
                )
                assert resp.status == 201, resp
                w.user_ids.append(resp.json["id"])
                w.user_names.append(name)
            resp = await scim.post(
                "/Groups", {"displayName": "victim-admins", "members": [{"value": w.user_ids[0]}]}
            )
            assert resp.status == 201, resp
            w.group_ids.append(resp.json["id"])
            yield w
    finally:
        await admin.close()
