"""Versioned SQL migrations, applied once each, in file-name order, under an advisory lock.

A few lines of asyncpg instead of a migration framework: the suite's services own plain SQL files and run
on asyncpg only (Alembic and yoyo would bring SQLAlchemy or psycopg for this one job). Several replicas may
start at once; the advisory lock makes exactly one of them apply each file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)


async def apply_migrations(conn: asyncpg.Connection, folder: Path, namespace: str) -> list[str]:
    """Apply the `*.sql` files of `folder` not yet recorded for `namespace`; return the names applied."""
    lock_key = int.from_bytes(
        hashlib.sha256(f"migrations:{namespace}".encode()).digest()[:8], "big", signed=True
    )
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS public.schema_migrations (
                namespace   text NOT NULL,
                name        text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (namespace, name)
            )
            """
        )
        done = {
            r["name"]
            for r in await conn.fetch(
                "SELECT name FROM public.schema_migrations WHERE namespace = $1", namespace
            )
        }
        for path in sorted(folder.glob("*.sql")):  # noqa: ASYNC240 - a handful of local files, read once at start
            if path.name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute(
                    "INSERT INTO public.schema_migrations (namespace, name) VALUES ($1, $2)",
                    namespace,
                    path.name,
                )
            log.info("applied migration", extra={"migration": path.name, "namespace": namespace})
            applied_now.append(path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    return applied_now


async def migrate_database(database_url: str, folder: Path, namespace: str) -> list[str]:
    """Connect to `database_url`, apply `folder`'s migrations for `namespace`, return the names applied."""
    conn = await asyncpg.connect(database_url)
    try:
        return await apply_migrations(conn, folder, namespace)
    finally:
        await conn.close()


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database `name` on the server behind `admin_dsn` if it does not exist."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Created concurrently by another replica is as good as created; the name is our own config.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
