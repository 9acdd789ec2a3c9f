"""What high availability costs on this box, for docs/capacity.md: small, bounded measurements.

1. PostgreSQL commits with a synchronous standby (Patroni, `synchronous_mode`, fsync on), against the same
   cluster committing locally (`synchronous_commit = local`): commits/s and CPU per commit, primary and
   standby. Each transaction writes a user-sized row and an outbox-sized row, as a SCIM write does.
2. JetStream publishes: a three-node cluster with an R3 stream against one server with R1: publishes/s and
   nats-server CPU per publish, with the relay's concurrency (a batch in flight, de-duplication ids).
3. The check of the capacity model on the single-node suite: calibrate the CPU per request of the Okta
   lookup and of the create alone, predict the throughput of Okta's create sequence (both, per user) from
   the CPU it gets (the box is shared), and measure it. Also: how far the final bench run's per-request
   CPU (another machine) predicts this box's POST rate.

`python -m bench.ha_costs [--seconds 5] [--out bench/results/ha-costs.json]`; about two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import nats
from devstack.stack import running_stack

from bench.env import STACK_ENV, infrastructure, machine
from bench.noise import NoiseMeter
from tests.ha.nats_cluster import NatsCluster
from tests.ha.patroni_cluster import new_cluster
from tests.support.admin import Admin

ROW = json.dumps(
    {"userName": "x" * 40, "name": {"givenName": "g" * 20, "familyName": "f" * 20}, "pad": "p" * 600}
)
EVENT = json.dumps({"type": "UserCreated", "pad": "e" * 500})
# The final full bench run (bench/results/full-2026-11-28T1626.md): CPU per POST /Users (Okta body), ms,
# all server processes, and the load client's own share.
BENCH_POST_SERVER_MS = 4.32
BENCH_POST_CLIENT_MS = 0.25


async def _for(seconds: float, workers: int, op: Callable[[int], Awaitable[None]]) -> tuple[int, list[float]]:
    """Run `op` in `workers` loops for `seconds`; count completions and their latencies (ms)."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []

    async def loop(i: int) -> None:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            await op(i)
            latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(loop(i) for i in range(workers)))
    return len(latencies), latencies


def _pct(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1], 2) if len(values) > 1 else float("nan")


async def postgres_commits(seconds: float, workers: int) -> dict[str, Any]:
    cluster = await asyncio.to_thread(lambda: new_cluster(True, durable=True).start())
    try:
        primary = cluster.primary()
        standby = next(n for n in cluster.nodes if n is not primary)
        dsn = cluster.dsn("postgres")
        setup = await asyncpg.connect(dsn)
        await setup.execute(
            "CREATE TABLE IF NOT EXISTS bench_users (id uuid PRIMARY KEY, doc jsonb);"
            "CREATE TABLE IF NOT EXISTS bench_outbox (id bigserial PRIMARY KEY, payload jsonb)"
        )
        await setup.close()
        out: dict[str, Any] = {}
        # Alternated, twice each: on a shared box a burst of someone else's work hits one window, not a mode.
        for round_, mode in enumerate(("local", "on", "local", "on")):
            pool = await asyncpg.create_pool(
                dsn, min_size=workers, max_size=workers, server_settings={"synchronous_commit": mode}
            )
            assert pool is not None

            async def commit(_: int, pool: asyncpg.Pool = pool) -> None:
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute("INSERT INTO bench_users VALUES ($1, $2::jsonb)", uuid.uuid4(), ROW)
                    await conn.execute("INSERT INTO bench_outbox (payload) VALUES ($1::jsonb)", EVENT)

            meter = NoiseMeter()
            meter.add("primary", primary.postmaster_pid() or 0)
            meter.add("standby", standby.postmaster_pid() or 0)
            before, t0 = meter.snapshot(), time.monotonic()
            done, lat = await _for(seconds, workers, commit)
            elapsed = time.monotonic() - t0
            after = meter.snapshot()
            await pool.close()
            cpu = NoiseMeter.cpu_ms(before, after)
            out[f"synchronous_commit={mode} (round {round_ // 2 + 1})"] = {
                "commits_per_s": round(done / elapsed, 1),
                "p50_ms": _pct(lat, 50),
                "p99_ms": _pct(lat, 99),
                "primary_cpu_ms_per_commit": round(cpu["primary"] / done, 3),
                "standby_cpu_ms_per_commit": round(cpu["standby"] / done, 3),
                "foreign_cpu_pct": round(NoiseMeter.foreign_pct(before, after, elapsed), 1),
                "iowait_pct": round(NoiseMeter.iowait_pct(before, after, elapsed), 1),
            }
        return {"workers": workers, "fsync": "on", **out}
    finally:
        await asyncio.to_thread(cluster.stop)


async def jetstream_publishes(seconds: float, in_flight: int) -> dict[str, Any]:
    from suite_common.embedded import EmbeddedNats
    from suite_common.streams import ensure_stream

    payload = b"x" * 700
    out: dict[str, Any] = {}
    single = EmbeddedNats(Path(tempfile.mkdtemp(prefix="bench-nats-")))
    cluster = NatsCluster(Path(tempfile.mkdtemp(prefix="bench-nats3-")))
    try:
        url = single.start()
        await asyncio.to_thread(cluster.start)
        for label, servers, pids, replicas in (
            ("R1, one server", [url], [single.process.pid if single.process else 0], 1),
            (
                "R3, three-node cluster",
                cluster.servers,
                [n.process.pid for n in cluster.nodes if n.process],
                3,
            ),
        ):
            nc = await nats.connect(servers)
            js = nc.jetstream()
            await ensure_stream(js, "BENCH", ["bench.>"], 3600.0, replicas=replicas)
            meter = NoiseMeter()
            for i, pid in enumerate(pids):
                meter.add(f"nats{i}", pid)
            serial = iter(range(10**9))

            async def publish(_: int, js: Any = js, serial: Any = serial) -> None:
                await js.publish("bench.events", payload, headers={"Nats-Msg-Id": str(next(serial))})

            before, t0 = meter.snapshot(), time.monotonic()
            done, lat = await _for(seconds, in_flight, publish)
            elapsed = time.monotonic() - t0
            after = meter.snapshot()
            cpu = NoiseMeter.cpu_ms(before, after)
            await nc.close()
            out[label] = {
                "publishes_per_s": round(done / elapsed, 1),
                "p50_ms": _pct(lat, 50),
                "p99_ms": _pct(lat, 99),
                "nats_cpu_ms_per_publish": round(
                    sum(v for k, v in cpu.items() if k.startswith("nats")) / done, 3
                ),
                "foreign_cpu_pct": round(NoiseMeter.foreign_pct(before, after, elapsed), 1),
            }
        return {"in_flight": in_flight, "payload_bytes": len(payload), **out}
    finally:
        single.stop()
        await asyncio.to_thread(cluster.stop)


@dataclass
class Window:
    """One measured window: requests answered, their latencies, the CPU of our processes, the others'."""

    done: int
    latencies: list[float]
    elapsed_s: float
    our_cpu_ms: float
    foreign_pct: float

    @property
    def cpu_ms_per_request(self) -> float:
        return self.our_cpu_ms / max(self.done, 1)

    @property
    def cores_used(self) -> float:
        return self.our_cpu_ms / 1000 / self.elapsed_s

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s


async def _window(
    meter: NoiseMeter, seconds: float, workers: int, op: Callable[[int], Awaitable[None]]
) -> Window:
    before, t0 = meter.snapshot(), time.monotonic()
    done, latencies = await _for(seconds, workers, op)
    elapsed = time.monotonic() - t0
    after = meter.snapshot()
    return Window(
        done,
        latencies,
        elapsed,
        sum(NoiseMeter.cpu_ms(before, after).values()),
        NoiseMeter.foreign_pct(before, after, elapsed),
    )


async def model_check(seconds: float, workers: int) -> dict[str, Any]:
    """The model's composition rule, checked on this box: calibrate the CPU per request of the Okta lookup
    (GET filter=userName eq) and of the create (POST /Users) alone, then predict the throughput of Okta's
    real create sequence (lookup, then create, per user) from the CPU the mix got, and measure it.

    Also reported: the prediction from the final bench run's CPU per request (another machine, a quiet
    moment) for the POST window, which shows how far per-request costs move between boxes and loads."""
    # Starting the servers blocks: enter and leave them in a thread.
    servers = infrastructure(durable=True)
    infra = await asyncio.to_thread(servers.__enter__)
    try:
        async with running_stack(infra.servers, "capcheck", env=STACK_ENV) as stack:
            admin = Admin(stack)
            try:
                tenant = await admin.enable(f"cap-{uuid.uuid4().hex[:6]}", "store")
                meter = NoiseMeter()
                for i, svc in enumerate(stack.directories + stack.portals + stack.edges):
                    meter.add(f"{svc.name}-{i}", svc.pid)
                meter.add("postgres", infra.pg_pid or 0)
                meter.add("nats", infra.nats_pid or 0)
                headers = {"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/scim+json"}
                users = f"{tenant.base_url.replace('http://scim.test', stack.edge_url)}/Users"
                serial = iter(range(10**9))
                async with aiohttp.ClientSession() as session:

                    async def lookup(n: int) -> None:
                        query = {"filter": f'userName eq "cap-{n}@bench.test"'}
                        async with session.get(users, params=query, headers=headers) as r:
                            assert r.status == 200, await r.text()

                    async def create(n: int) -> None:
                        body = {
                            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": f"cap-{n}@bench.test",
                            "name": {"givenName": "Cap", "familyName": str(n)},
                            "emails": [{"primary": True, "value": f"cap-{n}@bench.test", "type": "work"}],
                            "displayName": f"Cap {n}",
                            "active": True,
                        }
                        async with session.post(users, json=body, headers=headers) as r:
                            assert r.status == 201, await r.text()

                    async def post(_: int) -> None:
                        await create(next(serial))

                    async def get(_: int) -> None:
                        await lookup(next(serial))

                    async def okta_create(_: int) -> None:
                        n = next(serial)
                        await lookup(n)
                        await create(n)

                    await _for(1.0, workers, post)  # warm-up: connections, caches
                    posts = await _window(meter, seconds, workers, post)
                    gets = await _window(meter, seconds, workers, get)
                    mix = await _window(meter, seconds, workers, okta_create)
            finally:
                await admin.close()
    finally:
        await asyncio.to_thread(servers.__exit__, None, None, None)
    # Each okta_create is two requests, one of each kind.
    mix_cpu_per_request = (posts.cpu_ms_per_request + gets.cpu_ms_per_request) / 2
    predicted = mix.cores_used * 1000 / mix_cpu_per_request
    measured = 2 * mix.rate
    bench_per_request = BENCH_POST_SERVER_MS + BENCH_POST_CLIENT_MS
    bench_predicted = posts.cores_used * 1000 / bench_per_request
    return {
        "workers": workers,
        "seconds_per_window": seconds,
        "calibration": {
            "POST /Users": {
                "req_per_s": round(posts.rate, 1),
                "cpu_ms_per_request": round(posts.cpu_ms_per_request, 2),
                "foreign_cpu_pct": round(posts.foreign_pct, 1),
                "p50_ms": _pct(posts.latencies, 50),
            },
            "GET filter=userName eq": {
                "req_per_s": round(gets.rate, 1),
                "cpu_ms_per_request": round(gets.cpu_ms_per_request, 2),
                "foreign_cpu_pct": round(gets.foreign_pct, 1),
                "p50_ms": _pct(gets.latencies, 50),
            },
        },
        "check": {
            "workload": "Okta create: lookup then POST per user (2 requests)",
            "cores_we_got": round(mix.cores_used, 2),
            "foreign_cpu_pct": round(mix.foreign_pct, 1),
            "model_cpu_ms_per_request": round(mix_cpu_per_request, 2),
            "predicted_req_per_s": round(predicted, 1),
            "measured_req_per_s": round(measured, 1),
            "error_pct": round((measured - predicted) / predicted * 100, 1),
        },
        "bench_transfer": {
            "bench_cpu_ms_per_post": bench_per_request,
            "predicted_post_per_s_from_bench": round(bench_predicted, 1),
            "measured_post_per_s": round(posts.rate, 1),
            "error_pct": round((posts.rate - bench_predicted) / bench_predicted * 100, 1),
        },
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if args.only in (None, "postgres"):
        results["postgres"] = await postgres_commits(args.seconds, workers=16)
        print(json.dumps(results["postgres"], indent=1))
    if args.only in (None, "jetstream"):
        results["jetstream"] = await jetstream_publishes(args.seconds, in_flight=64)
        print(json.dumps(results["jetstream"], indent=1))
    if args.only in (None, "model"):
        results["model_check"] = await model_check(args.seconds, workers=16)
        print(json.dumps(results["model_check"], indent=1))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", default="bench/results/ha-costs.json")
    parser.add_argument("--only", choices=["postgres", "jetstream", "model"], default=None)
    args = parser.parse_args()
    out = Path(args.out)
    # --only refreshes one section and keeps the others of the last run.
    kept = json.loads(out.read_text()) if args.only and out.exists() else {}
    out.write_text(json.dumps({**kept, **asyncio.run(measure(args))}, indent=2) + "\n")


if __name__ == "__main__":
    main()
