"""The provisioning log's use cases in the directory: store the edge's batches, prune in the background."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from suite_common.db_statements import counted_as, mark_background
from suite_common.waiting import wait_or_timeout

from directory.adapters.postgres import request_log
from directory.adapters.postgres.request_log import NewEntry
from directory.domain.idp import recorded_idp
from directory.service_layer.unit_of_work import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingRecord:
    """A record as the edge sends it (already redacted and truncated there)."""

    connection_id: str
    at: str
    request_id: str
    method: str
    path: str
    query: str
    status: int
    scim_type: str
    detail: str
    latency_ms: float
    user_agent: str
    resource_type: str
    resource_id: str
    user_name: str
    request_body: str
    response_body: str
    truncated: bool
    token_sha256: bytes
    idp: str = ""  # what the edge recognised; empty from an older edge


def _text(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; a hostile body may carry one.
    return value.replace("\x00", "\ufffd")


def _entry(r: IncomingRecord) -> NewEntry | None:
    try:
        cid = uuid.UUID(r.connection_id)
    except ValueError:
        return None
    try:
        at = datetime.fromisoformat(r.at)
    except ValueError:
        at = datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return NewEntry(
        connection_id=cid,
        at=at,
        request_id=_text(r.request_id),
        method=_text(r.method),
        path=_text(r.path),
        query=_text(r.query),
        status=r.status,
        scim_type=_text(r.scim_type),
        detail=_text(r.detail),
        latency_ms=r.latency_ms,
        user_agent=_text(r.user_agent),
        idp=recorded_idp(r.idp, r.user_agent),
        resource_type=_text(r.resource_type),
        resource_id=_text(r.resource_id),
        user_name=_text(r.user_name),
        request_body=_text(r.request_body),
        response_body=_text(r.response_body),
        truncated=r.truncated,
    )


async def store(pool: asyncpg.Pool, records: list[IncomingRecord]) -> int:
    """Store one batch and each token's last use, in one transaction."""
    pairs = [(r, e) for r in records if (e := _entry(r)) is not None]
    entries = [e for _, e in pairs]
    last_use: dict[bytes, datetime] = {}
    for r, e in pairs:
        # A 401 means the token was not (or no longer) valid: that is not a use of any live token.
        if len(r.token_sha256) == 32 and r.status != 401:
            prior = last_use.get(r.token_sha256)
            last_use[r.token_sha256] = e.at if prior is None or e.at > prior else prior
    # Written off the SCIM request path, in batches: not a request's round trips (tests/perf budgets
    # those), so counted as work of its own.
    with counted_as("request-log"):
        async with transaction(pool) as conn:
            stored = await request_log.insert_batch(conn, entries)
            await request_log.mark_tokens_used(conn, last_use)
    return stored


class RetentionPruner:
    """Keeps the log bounded: rows older than `retention_days`, and each connection's rows beyond
    `max_rows`, are deleted every `interval_s` (in batches, so no long lock). Safe with several replicas:
    deletes are idempotent."""

    def __init__(
        self, pool: asyncpg.Pool, retention_days: float, max_rows: int, interval_s: float, batch: int = 10000
    ) -> None:
        self.pool = pool
        self.retention_days = retention_days
        self.max_rows = max_rows
        self.interval_s = interval_s
        self.batch = batch
        self._stop = asyncio.Event()

    async def prune_once(self) -> int:
        async with self.pool.acquire() as conn:
            return await request_log.prune(conn, self.retention_days, self.max_rows, self.batch)

    async def run(self) -> None:
        mark_background()
        while not self._stop.is_set():
            try:
                deleted = await self.prune_once()
                if deleted:
                    log.info("request log pruned", extra={"deleted": deleted})
            except (asyncpg.PostgresError, OSError) as exc:
                log.warning("request log pruning failed; will retry", extra={"error": str(exc)})
            await wait_or_timeout(self._stop, self.interval_s)

    async def shutdown(self) -> None:
        self._stop.set()
