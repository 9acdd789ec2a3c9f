"""What high availability costs on this box, for docs/capacity.md: small, bounded measurements.

1. PostgreSQL commits with a synchronous standby (Patroni, `synchronous_mode`, fsync on), against the same
   cluster committing locally (`synchronous_commit = local`): commits/s and CPU per commit, primary and
   standby. Each transaction writes a user-sized row and an outbox-sized row, as a SCIM write does.
2. JetStream publishes: a three-node cluster with an R3 stream against one server with R1: publishes/s and
   nats-server CPU per publish, with the relay's concurrency (a batch in flight, de-duplication ids).
3. The check of the capacity model: POST /Users (Okta body) against the single-node suite for a few
   seconds; the throughput the model predicts from the final bench run's CPU per request and the CPU left
   to us during the check (the box is shared), against the throughput measured.

`python -m bench.ha_costs [--seconds 5] [--out bench/results/ha-costs.json]`; about two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import nats

from bench.env import STACK_ENV, infrastructure, machine
from bench.noise import NoiseMeter
from tests.ha.nats_cluster import NatsCluster
from tests.ha.patroni_cluster import new_cluster
from tests.support.admin import Admin
from tests.support.stack import Stack

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
        for mode in ("local", "on"):
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
            out[f"synchronous_commit={mode}"] = {
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


async def model_check(seconds: float, workers: int) -> dict[str, Any]:
    """Predicted = CPU available to us / CPU per request (server + client, from the bench); vs measured."""
    with infrastructure(durable=True) as infra:
        stack = Stack(infra.dsn, infra.nats_url, extra_env=dict(STACK_ENV)).start()
        admin = Admin(stack)
        try:
            tenant = await admin.enable(f"cap-{uuid.uuid4().hex[:6]}", "store")
            meter = NoiseMeter()
            for i, svc in enumerate(stack.directories + stack.portals + stack.edges):
                meter.add(f"{svc.name}-{i}", svc.pid)
            meter.add("postgres", infra.pg.process.pid if infra.pg.process else 0)
            meter.add("nats", infra.nats.process.pid if infra.nats.process else 0)
            headers = {"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/scim+json"}
            async with aiohttp.ClientSession() as session:
                serial = iter(range(10**9))

                async def post(_: int) -> None:
                    n = next(serial)
                    body = {
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": f"cap-{n}@bench.test",
                        "name": {"givenName": "Cap", "familyName": str(n)},
                        "emails": [{"primary": True, "value": f"cap-{n}@bench.test", "type": "work"}],
                        "displayName": f"Cap {n}",
                        "active": True,
                    }
                    async with session.post(
                        f"{tenant.base_url.replace('http://scim.test', stack.edge_url)}/Users",
                        json=body,
                        headers=headers,
                    ) as r:
                        assert r.status == 201, await r.text()

                await _for(1.0, workers, post)  # warm-up: connections, caches
                before, t0 = meter.snapshot(), time.monotonic()
                done, lat = await _for(seconds, workers, post)
                elapsed = time.monotonic() - t0
                after = meter.snapshot()
        finally:
            await admin.close()
            stack.stop()
    cores = os.cpu_count() or 1
    foreign = NoiseMeter.foreign_pct(before, after, elapsed)
    available = cores * (1 - foreign / 100)
    per_request = BENCH_POST_SERVER_MS + BENCH_POST_CLIENT_MS
    predicted = available * 1000 / per_request
    measured = done / elapsed
    cpu = NoiseMeter.cpu_ms(before, after)
    return {
        "operation": "POST /Users (Okta-like body)",
        "workers": workers,
        "seconds": round(elapsed, 1),
        "cores": cores,
        "foreign_cpu_pct": round(foreign, 1),
        "cores_available": round(available, 2),
        "model_cpu_ms_per_request": per_request,
        "predicted_req_per_s": round(predicted, 1),
        "measured_req_per_s": round(measured, 1),
        "error_pct": round((measured - predicted) / predicted * 100, 1),
        "measured_cpu_ms_per_request": round(sum(cpu.values()) / done, 2),
        "p50_ms": _pct(lat, 50),
        "p99_ms": _pct(lat, 99),
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
    results = asyncio.run(measure(args))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
