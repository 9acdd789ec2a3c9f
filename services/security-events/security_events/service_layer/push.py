"""Push delivery (RFC 8935): one worker per receiver with SETs due, each with its own HTTP connection pool.

A slow or dead receiver only ever holds its own worker and its own connections (two receivers on one host
share nothing): its SETs wait in its own queue (rows), its requests time out on their own, and other
receivers' workers and the consumer never wait for it. Several replicas deliver side by side; a SET is
leased to one of them at a time (adapters.postgres.sets).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import dataclass

import aiohttp
import asyncpg
from suite_common.db_statements import mark_work

from security_events.adapters.postgres import sets, streams
from security_events.adapters.postgres.sets import StoredSet
from security_events.domain import push_outcome
from security_events.domain.key_encryption import Sealer
from security_events.domain.push_outcome import Outcome
from security_events.metrics import SetMetrics

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/secevent+jwt"
LANES = 3
# A lane with nothing to claim stays this long, re-claiming on each wake (and each tick, for retries coming
# due), before its worker ends: under a steady flow the next SET is claimed at its NOTIFY, without looking
# the receiver up and starting a worker again.
LINGER_S = 2.0
TICK_S = 0.25


@dataclass(frozen=True)
class PushPolicy:
    timeout_s: float
    concurrency: int
    retry_base_s: float
    retry_max_s: float
    dead_letter_after_s: float


@dataclass(frozen=True)
class _Target:
    url: str
    authorization: str


class PushDeliverer:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer, policy: PushPolicy, metrics: SetMetrics) -> None:
        self.pool = pool
        self.sealer = sealer
        self.policy = policy
        self.metrics = metrics
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._lane_wakes: set[asyncio.Event] = set()
        # One session (connection pool) per receiver, kept between drains so connections are reused.
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self.delivered_total = 0

    async def shutdown(self) -> None:
        self._stopping.set()
        self.wake()

    def _done(self, receiver_id: str, _task: asyncio.Task[None]) -> None:
        # No wake here: a worker drains until nothing is claimable, so what is left is not due yet or
        # leased elsewhere; the next tick looks again.
        self._workers.pop(receiver_id, None)

    def wake(self) -> None:
        """New SETs committed: look for due receivers now rather than at the next tick."""
        self._wake.set()
        for lane in self._lane_wakes:
            lane.set()

    def _session(self, receiver_id: str) -> aiohttp.ClientSession:
        session = self._sessions.get(receiver_id)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout_s),
                connector=aiohttp.TCPConnector(limit=self.policy.concurrency),
            )
            self._sessions[receiver_id] = session
        return session

    async def run(self) -> None:
        mark_work("push")  # its statements (and its workers') are not an event's: counted apart
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    async with self.pool.acquire() as conn:
                        due = await sets.due_push_receivers(conn)
                except Exception as exc:
                    log.warning("cannot list due receivers", extra={"error": str(exc)})
                    due = []
                for receiver_id in due:
                    if receiver_id not in self._workers:
                        task = asyncio.create_task(self._drain(self._session(receiver_id), receiver_id))
                        self._workers[receiver_id] = task
                        task.add_done_callback(functools.partial(self._done, receiver_id))
                with contextlib.suppress(TimeoutError):
                    # The NOTIFY wakes this at once; the timeout picks up retries coming due.
                    await asyncio.wait_for(self._wake.wait(), TICK_S)
        finally:
            workers = list(self._workers.values())
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            for session in self._sessions.values():
                await session.close()

    async def _target(self, receiver_id: str) -> _Target | None:
        async with self.pool.acquire() as conn:
            row = await streams.receiver(conn, receiver_id)
        if row is None or row["delivery"] != "push":
            session = self._sessions.pop(receiver_id, None)  # removed meanwhile
            if session is not None:
                await session.close()
            return None
        auth = ""
        if row["authorization_sealed"] is not None:
            auth = self.sealer.open(
                bytes(row["authorization_sealed"]), f"authorization:{receiver_id}"
            ).decode()
        return _Target(row["endpoint_url"], auth)

    async def _drain(self, http: aiohttp.ClientSession, receiver_id: str) -> None:
        """Deliver the receiver's due SETs until none is due (or a 429 says wait), in `LANES` lanes.

        Each lane claims its own batch (leases keep them apart, and only a subject's oldest SET is ever
        claimed), so one lane's database round trips overlap another's POSTs.
        """
        try:
            target = await self._target(receiver_id)
            if target is None:
                return
            await asyncio.gather(*(self._lane(http, target, receiver_id) for _ in range(LANES)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("push worker failed; leases expire and the SETs go again", extra={"error": repr(exc)})

    async def _lane(self, http: aiohttp.ClientSession, target: _Target, receiver_id: str) -> None:
        lease_s = self.policy.timeout_s * 2 + 5
        woken = asyncio.Event()
        self._lane_wakes.add(woken)
        try:
            await self._lane_loop(http, target, receiver_id, lease_s, woken)
        finally:
            self._lane_wakes.discard(woken)

    async def _lane_loop(
        self,
        http: aiohttp.ClientSession,
        target: _Target,
        receiver_id: str,
        lease_s: float,
        woken: asyncio.Event,
    ) -> None:
        loop = asyncio.get_running_loop()
        idle_since: float | None = None
        while not self._stopping.is_set():
            woken.clear()  # before the claim: a SET committed after it wakes the wait below
            async with self.pool.acquire() as conn:
                batch = await sets.claim_push(conn, receiver_id, self.policy.concurrency, lease_s)
            if not batch:
                idle_since = idle_since if idle_since is not None else loop.time()
                if loop.time() - idle_since >= LINGER_S:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), TICK_S)
                continue
            idle_since = None
            started = asyncio.get_running_loop().time()
            outcomes = await asyncio.gather(*(self._post(http, target, s) for s in batch))
            elapsed = asyncio.get_running_loop().time() - started
            await self._record(receiver_id, list(zip(batch, outcomes, strict=True)), elapsed)
            if any(o.kind == push_outcome.RETRY for o in outcomes):
                return  # the rest waits for its next attempt time; the main loop comes back

    async def _post(self, http: aiohttp.ClientSession, target: _Target, stored: StoredSet) -> Outcome:
        headers = {"Content-Type": CONTENT_TYPE, "Accept": "application/json"}
        if target.authorization:
            headers["Authorization"] = target.authorization
        try:
            async with http.post(target.url, data=stored.token.encode(), headers=headers) as resp:
                body = await resp.content.read(64 * 1024)
                return push_outcome.classify(resp.status, body, resp.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            return Outcome(push_outcome.RETRY, "transport", f"{type(exc).__name__}: {exc}"[:300])

    async def _record(
        self, receiver_id: str, results: list[tuple[StoredSet, Outcome]], elapsed_s: float
    ) -> None:
        delivered = [s for s, o in results if o.kind == push_outcome.DELIVERED]
        hold_s = 0.0
        if len(delivered) == len(results):
            # The common case: one statement, no explicit transaction (one round trip less).
            async with self.pool.acquire() as conn:
                await sets.delivered(conn, receiver_id, [s.jti for s in delivered])
            self._count(receiver_id, results, elapsed_s)
            return
        async with self.pool.acquire() as conn, conn.transaction():
            if delivered:
                await sets.delivered(conn, receiver_id, [s.jti for s in delivered])
            for stored, outcome in results:
                if outcome.kind == push_outcome.REFUSED:
                    await sets.failed(conn, receiver_id, stored.jti, outcome.error)
                elif outcome.kind == push_outcome.RETRY:
                    if self._past_bound(stored, elapsed_s):
                        await sets.dead(conn, stored.seq, outcome.error)
                    else:
                        delay = push_outcome.backoff_s(
                            stored.attempts, self.policy.retry_base_s, self.policy.retry_max_s
                        )
                        if outcome.retry_after_s is not None:
                            delay = max(delay, outcome.retry_after_s)
                        hold_s = max(hold_s, delay)
                        await sets.retry_later(conn, stored.seq, delay, outcome.error)
            if hold_s:
                # The receiver is failing or asked to wait: none of its SETs goes before then, so a
                # down receiver costs one attempt per backoff step, not one per pending subject.
                await sets.defer_receiver(conn, receiver_id, hold_s)
        self._count(receiver_id, results, elapsed_s)

    def _past_bound(self, stored: StoredSet, elapsed_s: float) -> bool:
        """Whether a failed SET is dead-lettered: its age now, not at its claim (the attempt itself, a
        timeout, may cross the bound)."""
        return stored.age_s + elapsed_s >= self.policy.dead_letter_after_s

    def _count(self, receiver_id: str, results: list[tuple[StoredSet, Outcome]], elapsed_s: float) -> None:
        for stored, outcome in results:
            if outcome.kind == push_outcome.DELIVERED:
                self.metrics.delivered.labels(receiver_id).inc()
                self.metrics.delivery_seconds.labels(receiver_id).observe(stored.age_s + elapsed_s)
                self.delivered_total += 1
            elif outcome.kind == push_outcome.REFUSED:
                self.metrics.failed.labels(receiver_id, outcome.err[:40]).inc()
                log.warning("receiver refused a SET", extra={"receiver": receiver_id, "error": outcome.error})
            elif self._past_bound(stored, elapsed_s):
                self.metrics.dead.labels(receiver_id).inc()
                log.error("SET dead-lettered", extra={"receiver": receiver_id, "error": outcome.error})
            else:
                self.metrics.retried.labels(receiver_id).inc()
