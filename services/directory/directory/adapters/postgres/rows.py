"""Small helpers shared by the resource repositories."""

from __future__ import annotations

import uuid
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What the repositories accept: a bare connection or the proxy a pool hands out.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


def parse_id(value: str) -> uuid.UUID | None:
    """A resource id from the wire; anything that is not one of our UUIDs cannot exist."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def parse_ids(values: list[str] | tuple[str, ...]) -> list[uuid.UUID]:
    return [u for u in (parse_id(v) for v in values) if u is not None]
