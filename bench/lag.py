"""Event → portal-action lag: POST /Users at a fixed rate to a Store tenant (on_create=employee) and time
how long after each write the Store employee account exists.

Both ends are read from PostgreSQL, and every process runs on this host, so they come from one clock:
  start = directory.users.created_at  (the directory's clock just before it sends the user's INSERT: the
                                       row and its event are one statement, both carrying that time)
  end   = portal.accounts.updated_at  (now() of portal-actions' transaction that created the account)
The lag therefore spans commit, outbox relay, JetStream, consumer and the start of the portal write; it
misses only the portal transaction's own commit (one fsync). The 201's arrival time at the client (also
recorded, same host clock) is reported as a second view: the account may exist before the client hears 201.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.clients import OKTA, HttpTarget
from bench.load import OpenLoopResult, open_loop, percentile


@dataclass
class LagRun:
    rate: float
    post: OpenLoopResult
    lag_ms: list[float]
    lag_from_201_ms: list[float]
    missing: int
    foreign_cpu_pct: float | None = None
    iowait_pct: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "sent": self.post.sent,
            "ok": self.post.ok,
            "errors": self.post.errors,
            "first_error": self.post.first_error,
            "achieved_rps": self.post.ok / self.post.elapsed_s,
            "post_p50_ms": percentile(self.post.latencies_s, 50) * 1000,
            "post_p99_ms": percentile(self.post.latencies_s, 99) * 1000,
            "client_max_start_delay_ms": self.post.max_start_delay_ms,
            "lag_p50_ms": percentile(self.lag_ms, 50),
            "lag_p99_ms": percentile(self.lag_ms, 99),
            "lag_max_ms": max(self.lag_ms, default=float("nan")),
            "lag_from_201_p50_ms": percentile(self.lag_from_201_ms, 50),
            "lag_from_201_p99_ms": percentile(self.lag_from_201_ms, 99),
            "accounts_missing": self.missing,
            "foreign_cpu_pct": self.foreign_cpu_pct,
            "iowait_pct": self.iowait_pct,
        }


@dataclass
class LagTest:
    target: HttpTarget
    dsn: str
    connection_id: str

    async def run(self, rate: float, duration_s: float, settle_s: float = 30.0) -> LagRun:
        prefix = uuid.uuid4().hex[:8]
        names: dict[int, str] = {}

        async def post(k: int) -> None:
            name = f"lag-{prefix}-{k}@bench.example"
            names[k] = name
            await self.target.call("POST", "/Users", OKTA, body=OKTA.create_body(name, k), expect=(201,))

        result = await open_loop(post, rate=rate, duration_s=duration_s)
        wanted = {names[k]: t for k, t in result.done_at.items()}
        conn = await asyncpg.connect(self.dsn)
        try:
            deadline = time.monotonic() + settle_s
            rows: list[asyncpg.Record] = []
            while True:
                rows = await conn.fetch(
                    """
                    SELECT u.user_name, extract(epoch FROM u.created_at)::float8 AS written,
                           extract(epoch FROM a.updated_at)::float8 AS applied
                      FROM directory.users u
                      JOIN portal.accounts a ON a.user_id = u.id AND a.status = 'active'
                     WHERE u.connection_id = $1 AND u.user_name LIKE $2
                    """,
                    uuid.UUID(self.connection_id),
                    f"lag-{prefix}-%",
                )
                if len(rows) >= len(wanted) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.25)
        finally:
            await conn.close()
        lag = [(r["applied"] - r["written"]) * 1000 for r in rows]
        from_201 = [(r["applied"] - wanted[r["user_name"]]) * 1000 for r in rows if r["user_name"] in wanted]
        return LagRun(rate, result, lag, from_201, max(0, len(wanted) - len(rows)))
