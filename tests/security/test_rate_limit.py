"""The per-token rate limit: a token bucket per credential, answered with 429, a SCIM error body and a
`Retry-After` that is the real wait; configurable, and by default far above Entra's 25 requests/s."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest_asyncio
from devstack.services import ServiceProcess, wait_http_port
from scim_edge.config import load_settings
from scim_edge.http.rate_limit import TokenBuckets, retry_after_header
from suite_common.embedded.processes import free_port

from tests.reliability.harness import record_figures
from tests.security.conftest import World
from tests.support.scim_client import ScimClient

ENTRA_REQUIRED_RPS = 25


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("Bearer a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("Bearer a") == 0.5  # one token is 1/rate seconds away
    assert buckets.take("Bearer b") == 0.0  # another credential has its own bucket
    clock.now += 0.25
    assert buckets.take("Bearer a") == 0.25
    clock.now += 0.25
    assert buckets.take("Bearer a") == 0.0
    clock.now += 60
    assert [buckets.take("Bearer a") for _ in range(4)][-1] > 0  # refilled to the burst, not beyond


def test_bucket_keys_are_hashes_and_idle_buckets_are_pruned() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=10.0, burst=10, clock=clock, max_keys=100)
    for i in range(100):
        buckets.take(f"Bearer forged-{i}")
    assert all(b"forged" not in key for key in buckets._buckets)
    clock.now += 1.0  # every bucket is full again: forgetting them changes nothing
    buckets.take("Bearer new")
    assert len(buckets) == 1


def test_zero_rate_disables_and_retry_after_rounds_up() -> None:
    assert TokenBuckets(rate=0, burst=1).take("x") == 0.0
    assert [retry_after_header(w) for w in (0.01, 1.0, 1.2, 7.9)] == ["1", "1", "2", "8"]


def test_default_limit_is_well_above_entra_requirement() -> None:
    settings = load_settings({})
    assert settings.rate_limit_per_second >= 4 * ENTRA_REQUIRED_RPS
    assert settings.rate_limit_burst >= settings.rate_limit_per_second
    tuned = load_settings({"EDGE_RATE_LIMIT_PER_SECOND": "7.5", "EDGE_RATE_LIMIT_BURST": "9"})
    assert (tuned.rate_limit_per_second, tuned.rate_limit_burst) == (7.5, 9)


@pytest_asyncio.fixture(scope="module")
async def slow_edge(world: World) -> AsyncIterator[str]:
    """A second edge in front of the same directory, limited to one request per 2 s with a burst of 2."""
    port = free_port()
    edge = ServiceProcess(
        "scim-edge",
        {
            "EDGE_PORT": str(port),
            "DIRECTORY_ADDR": world.stack.directory_addr,
            "EDGE_RATE_LIMIT_PER_SECOND": "0.5",
            "EDGE_RATE_LIMIT_BURST": "2",
        },
        world.stack.log_dir / "scim-edge-slow.log",
    )
    edge.start()
    try:
        assert wait_http_port(port, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        edge.terminate()


async def test_over_the_limit_gets_429_with_scim_body_and_the_real_wait(world: World, slow_edge: str) -> None:
    victim = ScimClient(world.session, slow_edge, world.victim)
    other = ScimClient(world.session, slow_edge, world.other_workspace)
    assert [(await victim.get("/Users")).status for _ in range(2)] == [200, 200]
    limited = await victim.get("/Users")
    assert limited.status == 429, limited
    assert limited.headers["Content-Type"].startswith("application/scim+json")
    assert limited.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert limited.json["status"] == "429"
    # The bucket is empty and refills at 0.5/s: the next token is 2 s away, and the header says so.
    assert limited.headers["Retry-After"] == "2", limited.headers
    assert (await other.get("/Users")).status == 200, "another credential must not be throttled"
    assert (await victim.get("/Users", auth="")).status == 401  # no credential: refused, not counted
    async with world.session.get(f"{slow_edge}/healthz") as health:
        assert health.status == 200
    await asyncio.sleep(int(limited.headers["Retry-After"]))
    assert (await victim.get("/Users")).status == 200, "Retry-After was too short"


async def test_default_limit_serves_entra_rate_and_bursts_without_429(world: World) -> None:
    """On the default edge: a steady 40 requests/s for 3 s, then 100 requests at once."""
    scim = world.client(world.same_workspace)
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    for i in range(120):
        await asyncio.sleep(max(0.0, started + i / 40 - time.monotonic()))
        statuses[(await scim.get("/Users", params={"count": "1"})).status] += 1
    steady_rps = 120 / (time.monotonic() - started)
    burst = Counter(
        r.status
        for r in await asyncio.gather(*(scim.get("/Users", params={"count": "1"}) for _ in range(100)))
    )
    record_figures(
        "rate-limit",
        {
            "steady_rps": round(steady_rps, 1),
            "steady_statuses": dict(statuses),
            "burst_statuses": dict(burst),
        },
    )
    assert statuses == {200: 120} and steady_rps > ENTRA_REQUIRED_RPS
    assert burst == {200: 100}
