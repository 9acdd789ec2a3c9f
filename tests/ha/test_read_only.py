"""Never a silent write to a read-only node: the pool refuses DSNs that would allow one, discards a pooled
connection whose node turned read-only, and a write refused as read-only is an outage (503), not a 500."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from suite_common.embedded import EmbeddedPostgres
from suite_common.pg import CONNECTION_ERRORS, ReadOnlyNode, connect_primary, create_pool, session_target

from tests.support.eventually import assert_eventually


@pytest_asyncio.fixture
async def own_postgres() -> AsyncIterator[str]:
    """A server of its own: the test turns the whole server read-only."""
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="scim-ha-ro-")) / "pg", durable=False)
    try:
        yield pg.start()
    finally:
        pg.stop()
        pg.remove_data()


@pytest.mark.parametrize("attrs", ["standby", "any", "prefer-standby", "read-only"])
def test_a_dsn_asking_for_a_non_writable_session_is_refused(attrs: str) -> None:
    with pytest.raises(ValueError, match="must be read-write"):
        session_target(f"postgresql://u@a:5432,b:5432/scim?target_session_attrs={attrs}")


def test_sessions_target_a_writable_node_by_default() -> None:
    assert session_target("postgresql://u@a:5432,b:5432/scim") == "read-write"
    assert session_target("postgresql://u@a/scim?target_session_attrs=primary") == "primary"


def test_read_only_refusals_count_as_an_outage() -> None:
    assert issubclass(asyncpg.ReadOnlySQLTransactionError, CONNECTION_ERRORS)
    assert issubclass(ReadOnlyNode, CONNECTION_ERRORS)
    assert issubclass(asyncpg.TargetServerAttributeNotMatched, CONNECTION_ERRORS)


async def test_a_pooled_connection_on_a_node_turned_read_only_is_discarded(own_postgres: str) -> None:
    pool = await create_pool(own_postgres, min_size=2, max_size=2)
    admin = await asyncpg.connect(own_postgres)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT 1") == 1
        await admin.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        await admin.execute("SELECT pg_reload_conf()")

        # pg_reload_conf() only signals the postmaster, which re-reads the file and signals every backend
        # when it next runs: on a busy box that can come after our next statement. A new session inherits
        # the postmaster's settings, so once one sees the node read-only, every backend has been told.
        async def postmaster_reloaded() -> None:
            probe = await asyncpg.connect(own_postgres)
            try:
                assert await probe.fetchval("SHOW default_transaction_read_only") == "on"
            finally:
                await probe.close()

        await assert_eventually(postmaster_reloaded, timeout=15, interval=0.05)

        # PostgreSQL reports the changed setting to a session with its next answer. Until then a write on
        # it is refused by the server (read-only transaction); after it, the pool discards the connection
        # on acquire, and a new one is refused by target_session_attrs=read-write. No write succeeds.
        seen: list[type[BaseException]] = []
        for _ in range(20):
            try:
                async with pool.acquire() as conn:
                    await conn.execute("CREATE TABLE ro_probe (x int)")
            except CONNECTION_ERRORS as exc:
                seen.append(type(exc))
            else:
                raise AssertionError(f"a write succeeded on a read-only node after {seen}")
            if seen[-1] is asyncpg.TargetServerAttributeNotMatched:
                break
        assert asyncpg.ReadOnlySQLTransactionError in seen or ReadOnlyNode in seen, seen
        assert ReadOnlyNode in seen, f"the stale connections were not discarded: {seen}"
        assert seen[-1] is asyncpg.TargetServerAttributeNotMatched, seen
        with pytest.raises(CONNECTION_ERRORS):
            await connect_primary(own_postgres)
        await admin.execute("ALTER SYSTEM RESET default_transaction_read_only")
        await admin.execute("SELECT pg_reload_conf()")

        async def writable_again() -> None:
            try:
                async with pool.acquire() as conn:
                    await conn.execute("CREATE TABLE IF NOT EXISTS ro_probe (x int)")
            except CONNECTION_ERRORS as exc:
                raise AssertionError(f"still refused: {exc}") from exc

        await assert_eventually(writable_again, timeout=15, interval=0.1)
    finally:
        await admin.close()
        await pool.close()
