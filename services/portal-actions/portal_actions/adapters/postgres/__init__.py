"""PostgreSQL adapters of portal-actions; every function takes the caller's connection (and transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A plain connection or one borrowed from the pool: the adapters work on either.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# A row as asyncpg returns it, or as a statement returns it through row_to_json.
Row: TypeAlias = "asyncpg.Record | Mapping[str, Any]"
