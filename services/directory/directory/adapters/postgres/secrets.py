"""Secrets shared by every directory replica, kept in the database (migrations/0003_cursor_secret.sql)."""

from __future__ import annotations

from typing import Any


async def shared_secret(conn: Any, name: str) -> bytes:
    """The secret called `name`; raises LookupError if the migrations did not create it."""
    secret = await conn.fetchval("SELECT secret FROM directory.server_secrets WHERE name = $1", name)
    if secret is None:
        raise LookupError(f"no shared secret {name!r} in directory.server_secrets")
    return bytes(secret)
