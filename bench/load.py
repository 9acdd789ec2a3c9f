"""Load generation: closed-loop workers for throughput and latency, an open-loop schedule for fixed rates.

An `Action` is one request (HTTP or SQL) for the k-th call; it raises on a wrong answer. Latency is measured
around the whole action, on the client, with `perf_counter`, so it includes the client's own overhead on
the shared cores (the same for every system under test).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Action = Callable[[int], Awaitable[None]]


class WrongAnswer(Exception):
    """The server answered, but not what the operation expects (status or body)."""


@dataclass
class RunResult:
    ok: int
    errors: int
    elapsed_s: float
    latencies_s: list[float]
    first_error: str = ""
    foreign_cpu_pct: float | None = None  # CPU used by processes outside the benchmark, % of all cores
    iowait_pct: float | None = None  # CPU time idle waiting on disk, % of all cores
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU used per component during the run

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_s, p)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation), so p99 of 50 samples is an observed value."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100.0 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Summary:
    """Median and spread over the measured runs (warm-up excluded)."""

    runs: list[RunResult] = field(default_factory=list)

    def _per_run(self, f: Callable[[RunResult], float]) -> list[float]:
        return [f(r) for r in self.runs if r.ok]

    def stat(self, f: Callable[[RunResult], float]) -> tuple[float, float, float]:
        values = self._per_run(f)
        if not values:
            return (float("nan"),) * 3
        return statistics.median(values), min(values), max(values)

    @property
    def throughput(self) -> tuple[float, float, float]:
        return self.stat(lambda r: r.throughput)

    @property
    def p50_ms(self) -> tuple[float, float, float]:
        return self.stat(lambda r: r.percentile(50) * 1000)

    @property
    def p99_ms(self) -> tuple[float, float, float]:
        return self.stat(lambda r: r.percentile(99) * 1000)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def first_error(self) -> str:
        return next((r.first_error for r in self.runs if r.first_error), "")

    @property
    def spread_pct(self) -> float:
        """(max - min) / median throughput: how much the runs disagree."""
        med, lo, hi = self.throughput
        return (hi - lo) / med * 100 if med and med == med else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "throughput_rps": self.throughput,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "errors": self.errors,
            "first_error": self.first_error,
            "spread_pct": self.spread_pct,
            "runs": [
                {
                    "ok": r.ok,
                    "errors": r.errors,
                    "elapsed_s": r.elapsed_s,
                    "rps": r.throughput,
                    "p50_ms": r.percentile(50) * 1000,
                    "p99_ms": r.percentile(99) * 1000,
                    "foreign_cpu_pct": r.foreign_cpu_pct,
                    "iowait_pct": r.iowait_pct,
                    "cpu_ms_per_request": {k: v / r.ok for k, v in r.cpu_ms.items()} if r.ok else {},
                }
                for r in self.runs
            ],
        }


class Counter:
    """The request index shared by all workers of one action, across runs (so generated names stay unique)."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value - 1


async def closed_loop(
    action: Action,
    counter: Counter,
    *,
    concurrency: int,
    duration_s: float,
    max_requests: int | None = None,
    multiple_of: int = 1,
    stop: asyncio.Event | None = None,
) -> RunResult:
    """`concurrency` workers each send the next request as soon as the previous one is answered.

    New requests stop at `duration_s` (or after `max_requests`); requests in flight finish and count, and
    the elapsed time runs until the last one is answered, so slow servers are not flattered. With
    `multiple_of=2` a sequential run always ends after a whole number of remove/add pairs, so the next run
    (or the next operation on the same group) starts from the same membership.
    """
    latencies: list[float] = []
    errors = 0
    first_error = ""
    started = time.perf_counter()
    deadline = started + duration_s
    issued = 0

    async def worker() -> None:
        nonlocal errors, first_error, issued
        while issued % multiple_of or (
            time.perf_counter() < deadline
            and (max_requests is None or issued < max_requests)
            and (stop is None or not stop.is_set())
        ):
            issued += 1
            k = counter.next()
            t0 = time.perf_counter()
            try:
                await action(k)
            except Exception as exc:
                errors += 1
                if not first_error:
                    first_error = f"{type(exc).__name__}: {exc}"[:300]
                continue
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return RunResult(len(latencies), errors, time.perf_counter() - started, latencies, first_error)


@dataclass
class OpenLoopResult:
    sent: int
    ok: int
    errors: int
    elapsed_s: float
    latencies_s: list[float]
    max_start_delay_ms: float  # how late the client started a request: > a few ms means the client saturated
    first_error: str = ""
    done_at: dict[int, float] = field(default_factory=dict)  # k -> wall-clock time the answer arrived


async def open_loop(action: Action, *, rate: float, duration_s: float) -> OpenLoopResult:
    """Start request k at t0 + k/rate whatever the state of earlier ones (no coordinated omission)."""
    n = int(rate * duration_s)
    latencies: list[float] = []
    done_at: dict[int, float] = {}
    errors = 0
    first_error = ""
    max_delay = 0.0
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def one(k: int) -> None:
        nonlocal errors, first_error
        start = time.perf_counter()
        try:
            await action(k)
        except Exception as exc:
            errors += 1
            if not first_error:
                first_error = f"{type(exc).__name__}: {exc}"[:300]
            return
        latencies.append(time.perf_counter() - start)
        done_at[k] = time.time()

    tasks = []
    started = time.perf_counter()
    for k in range(n):
        due = t0 + k / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        max_delay = max(max_delay, loop.time() - due)
        tasks.append(asyncio.create_task(one(k)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return OpenLoopResult(
        n, len(latencies), errors, elapsed, latencies, max_delay * 1000, first_error, done_at
    )
