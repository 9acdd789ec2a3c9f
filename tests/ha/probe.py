"""Counting acknowledged writes that a failover lost: concurrent SCIM creates, each retried until it gets a
definitive answer, while the primary is killed; afterwards every acknowledged userName is looked up on the
new primary. This needs no model of later operations, so it also measures asynchronous replication,
where a lost create would otherwise derail the load that builds on it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import asyncpg

from tests.reliability.client import Client
from tests.reliability.load import USER_URN
from tests.support.admin import Tenant
from tests.support.stack import Stack


@dataclass
class ProbeResult:
    acknowledged: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    status_503: int = 0
    unknown_outcome: int = 0
    wal_bytes_per_create: float = 0.0


async def create_probe(
    stack: Stack,
    tenant: Tenant,
    verify_dsn: str,
    *,
    creates: int,
    workers: int,
    fault: Callable[[], object],
) -> ProbeResult:
    """`creates` acknowledged user creations; `fault` (blocking) fires in a thread once half are done."""
    path = tenant.base_url.split("/scim/v2/", 1)[1]
    bases = [f"{url}/scim/v2/{path}" for url in stack.edge_urls]
    result = ProbeResult()
    run = uuid.uuid4().hex[:6]
    half = asyncio.Event()
    counter = iter(range(10**9))

    async def worker(client: Client) -> None:
        while len(result.acknowledged) < creates:
            name = f"probe-{run}-{next(counter)}@ha.test"
            reply = await client.call(
                "POST",
                "/Users",
                {"schemas": [USER_URN], "userName": name, "active": True},
                accept=frozenset({409}),
            )
            assert reply.status != 409 or reply.uncertain, f"409 on a first-time create of {name}"
            result.acknowledged.append(name)
            if len(result.acknowledged) >= creates // 2:
                half.set()

    async def inject() -> None:
        await half.wait()
        await asyncio.to_thread(fault)

    before = await _wal_lsn(verify_dsn)
    async with aiohttp.ClientSession() as session:
        clients = [Client(session, bases, tenant.token) for _ in range(workers)]
        await asyncio.gather(inject(), *(worker(c) for c in clients))
    conn = await asyncpg.connect(verify_dsn)
    try:
        rows = await conn.fetch(
            "SELECT user_name, count(*) AS n FROM directory.users "
            "WHERE connection_id = $1::uuid AND user_name LIKE $2 GROUP BY user_name",
            tenant.connection_id,
            f"probe-{run}-%",
        )
        after = await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)", before)
    finally:
        await conn.close()
    present = {r["user_name"]: r["n"] for r in rows}
    result.lost = [n for n in result.acknowledged if n not in present]
    result.doubled = [n for n, count in present.items() if count > 1]
    for c in clients:
        result.status_503 += c.stats["status_503"]
        result.unknown_outcome += c.stats["unknown_outcome"]
    # WAL written per acknowledged create, the unit in which an asynchronous standby lags behind.
    result.wal_bytes_per_create = round(float(after) / max(len(result.acknowledged), 1), 1)
    return result


async def _wal_lsn(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SELECT pg_current_wal_lsn()::text"))
    finally:
        await conn.close()
