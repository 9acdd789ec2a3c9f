"""`devstack.stack.running_stack`, which the tests, the benchmark and their fixtures all start stacks
with: it leaves nothing behind after a clean run, and keeps the service logs when a service died."""

from __future__ import annotations

import shutil

import asyncpg
from devstack.stack import running_stack

from tests.support.servers import Servers


async def _databases(servers: Servers) -> set[str]:
    conn = await asyncpg.connect(servers.admin_dsn)
    try:
        return {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


async def test_a_clean_stop_removes_the_logs_and_drops_the_database(servers: Servers) -> None:
    async with running_stack(servers, "lifecycle") as stack:
        database = stack.database_url.rsplit("/", 1)[1]
        assert database in await _databases(servers)
        assert sorted(p.name for p in stack.log_dir.glob("*.log")) == [
            "directory-0.log",
            "portal-actions-0.log",
            "scim-edge-0.log",
        ]
    assert all(svc.process is not None and svc.process.returncode == 0 for svc in stack.services)
    assert not stack.log_dir.exists()
    assert database not in await _databases(servers)


async def test_a_service_that_died_keeps_the_logs(servers: Servers) -> None:
    async with running_stack(servers, "lifecycle") as stack:
        stack.edges[0].kill()
    try:
        assert (stack.log_dir / "scim-edge-0.log").exists()
        assert (stack.log_dir / "directory-0.log").read_text()
    finally:
        shutil.rmtree(stack.log_dir, ignore_errors=True)


async def test_a_reason_to_keep_the_logs_keeps_them(servers: Servers) -> None:
    async with running_stack(servers, "lifecycle", keep_logs=lambda: "asked by the test") as stack:
        pass
    try:
        assert all(svc.process is not None and svc.process.returncode == 0 for svc in stack.services)
        assert (stack.log_dir / "portal-actions-0.log").exists()
    finally:
        shutil.rmtree(stack.log_dir, ignore_errors=True)
