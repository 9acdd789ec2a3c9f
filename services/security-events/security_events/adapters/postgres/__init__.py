"""The security_events schema: streams, receivers, keys, SETs, resource snapshots, consumed events."""

from __future__ import annotations

from typing import Any

import asyncpg

Conn = asyncpg.Connection | Any  # a pooled connection proxy is not an asyncpg.Connection subclass
