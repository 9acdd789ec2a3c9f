"""Poll delivery (RFC 8936 §2): a receiver acknowledges and reports errors, then takes pending SETs
(the oldest SET of each subject: a subject's next one follows once this one is acknowledged).

A SET handed out and not acknowledged within `redeliver_s` is handed out again (§2.4: the transmitter
keeps a SET until it is acknowledged). A long poll (`returnImmediately: false`) waits for new SETs at most
`max_wait_s`, woken by the database notification when SETs commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import asyncpg

from security_events.adapters.postgres import sets, streams
from security_events.errors import PollUnauthorized
from security_events.metrics import SetMetrics
from security_events.service_layer.admin import token_digest

DEFAULT_MAX_EVENTS = 100
MAX_EVENTS = 1000


@dataclass(frozen=True)
class PollResult:
    sets: dict[str, str]
    more_available: bool


class Poller:
    def __init__(
        self, pool: asyncpg.Pool, metrics: SetMetrics, *, redeliver_s: float, max_wait_s: float
    ) -> None:
        self.pool = pool
        self.metrics = metrics
        self.redeliver_s = redeliver_s
        self.max_wait_s = max_wait_s
        self._new_sets = asyncio.Event()

    def notify(self) -> None:
        """New SETs committed: wake every waiting long poll (each then looks for its own)."""
        self._new_sets.set()
        self._new_sets = asyncio.Event()

    async def poll(
        self,
        token: str,
        ack: list[str],
        set_errs: dict[str, tuple[str, str]],
        max_events: int,
        return_immediately: bool,
    ) -> PollResult:
        async with self.pool.acquire() as conn:
            receiver = await streams.poll_receiver(conn, token_digest(token)) if token else None
            if receiver is None:
                raise PollUnauthorized("unknown poll token")
            receiver_id = str(receiver["id"])
            async with conn.transaction():
                acked = await sets.delivered(conn, receiver_id, list(ack)) if ack else 0
                refused = [
                    (jti, err)
                    for jti, err in set_errs.items()
                    if await sets.failed(conn, receiver_id, jti, _error(err))
                ]
        if acked:
            self.metrics.delivered.labels(receiver_id).inc(acked)
        for _, (err, _d) in refused:
            self.metrics.failed.labels(receiver_id, err[:40]).inc()
        # §2.4: maxEvents 0 (or absent with only acks) asks for no SETs in this response.
        limit = DEFAULT_MAX_EVENTS if max_events < 0 else min(max_events, MAX_EVENTS)
        if limit == 0:
            return PollResult({}, await self._more(receiver_id))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (0 if return_immediately else self.max_wait_s)
        while True:
            async with self.pool.acquire() as conn:
                handed = await sets.lease_for_poll(conn, receiver_id, limit, self.redeliver_s)
            if handed or loop.time() >= deadline:
                break
            with contextlib.suppress(TimeoutError):
                # Woken by new SETs; the 1 s cap also catches SETs coming back after their lease.
                await asyncio.wait_for(self._new_sets.wait(), min(1.0, deadline - loop.time()))
        return PollResult({s.jti: s.token for s in handed}, await self._more(receiver_id))

    async def _more(self, receiver_id: str) -> bool:
        async with self.pool.acquire() as conn:
            return await sets.more_pending(conn, receiver_id)


def _error(err: tuple[str, str]) -> str:
    code, description = err
    return f"{code}: {description}" if description else code
