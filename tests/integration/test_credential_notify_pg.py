"""The credentials NOTIFY names the connection whose tokens changed, and stays silent when only a token's
`last_used_at` moved (the provisioning log writes it with every batch; migration 0013)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from directory.service_layer.credentials_cache import CHANNEL

from tests.support.eventually import assert_eventually
from tests.support.stack import database_fixture

own_database = database_fixture("credsnotify")


async def test_payload_is_the_connection_and_last_use_is_silent(own_database: str) -> None:
    conn = await asyncpg.connect(own_database)
    listener = await asyncpg.connect(own_database)
    heard: list[str] = []
    await listener.add_listener(CHANNEL, lambda *args: heard.append(args[3]))
    try:
        ws, cid, tid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await conn.execute("INSERT INTO directory.workspaces (id, name) VALUES ($1, $2)", ws, f"n-{ws}")
        await conn.execute(
            "INSERT INTO directory.connections (id, workspace_id, portal) VALUES ($1, $2, 'store')", cid, ws
        )
        await conn.execute(
            "INSERT INTO directory.tokens (id, connection_id, token_hash) VALUES ($1, $2, $3)",
            tid,
            cid,
            uuid.uuid4().bytes,
        )
        await conn.execute("UPDATE directory.tokens SET last_used_at = now() WHERE id = $1", tid)
        # A sentinel after it: once the sentinel is heard, anything the update sent would have been too.
        await conn.execute("SELECT pg_notify($1, 'sentinel')", CHANNEL)

        async def sentinel() -> None:
            assert heard == ["sentinel"], heard

        await assert_eventually(sentinel, timeout=10)
        await conn.execute("UPDATE directory.tokens SET revoked_at = now() WHERE id = $1", tid)
        await conn.execute("UPDATE directory.connections SET detected_idp = 'okta' WHERE id = $1", cid)

        async def named() -> None:
            assert heard == ["sentinel", str(cid), str(cid)], heard

        await assert_eventually(named, timeout=10)
        await conn.execute("DELETE FROM directory.tokens WHERE id = $1", tid)
        await assert_eventually(lambda: _count(heard, str(cid), 3), timeout=10)
    finally:
        await listener.close()
        await conn.close()


async def _count(heard: list[str], payload: str, n: int) -> None:
    await asyncio.sleep(0)
    assert heard.count(payload) == n, heard
