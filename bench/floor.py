"""How low can a durable, evented create go under the fixed architecture? The floor, the suite and the peer.

    .venv/bin/python -m bench.floor                  # 5 runs of 5 s per target, c = 16
    .venv/bin/python -m bench.floor --runs 3 --run-seconds 3

One run starts a durable PostgreSQL and nats-server, then three targets on them, loads the same users into
each, and sends the same Okta requests to each in closed loop (`POST /Users`, then the `userName eq`
lookup), the order rotated every run:

* **suite**: our stack as `make bench` runs it (edge, directory, portal-actions, security-events);
* **floor**: `bench/floor_parts.py`, the architecture's fixed hops (HTTP edge → gRPC → one PostgreSQL
  statement for row and outbox event → relay → JetStream → a consumer's one statement per batch; a
  lookup is edge → gRPC → one indexed SELECT) with none of the suite's business logic: the least any
  implementation of the architecture in Python pays;
* **scim2-server**: under uvicorn with uvloop and httptools, as in `make bench`.

CPU is read from `/proc` for every process tree (PostgreSQL and NATS included) from the start of a run
until the events it caused are applied, and divided by the requests answered. Results:
`bench/results/floor-<time>.{md,json}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import nats
import orjson
from devstack.admin import AdminClient
from nats.js import JetStreamContext
from suite_common.embedded.processes import end_child, free_port, wait_for_port
from suite_common.lifecycle import install_fast_loop

from bench import floor_parts
from bench.clients import OKTA, HttpTarget, json_of
from bench.dataset import Dataset, load_ours, user_body, user_id, user_name
from bench.env import Infra, infrastructure, machine, meter_suite, suite_stack
from bench.load import Action, Counter, WrongAnswer, closed_loop
from bench.noise import NoiseMeter
from bench.ops import Ctx, pg_filter_eq, pg_post_user, post_user
from bench.peer import start_peer
from bench.report import OURS

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
# The operations, each the request an IdP sends most: Okta's create, and its lookup before a create.
OPERATIONS = ("post", "eq")
# Which process trees make up each target's cost (the client is the same for all and left out).
PARTS: dict[str, tuple[str, ...]] = {
    "suite": OURS,
    "floor": ("floor-edge", "floor-directory", "floor-consumer", "postgres", "nats"),
    "scim2-server": ("scim2-server",),
    # The same SQL as the suite's create (row, then outbox row, one transaction) or lookup, sent by this
    # process through asyncpg: the cost of durability alone (PostgreSQL's share; the driver runs here).
    "asyncpg": ("postgres",),
}


@dataclass
class Run:
    op: str
    target: str
    ok: int
    errors: int
    elapsed_s: float
    settle_s: float
    cpu_ms: dict[str, float]
    foreign_pct: float
    first_error: str = ""

    def per_request(self, part: str) -> float:
        return self.cpu_ms.get(part, 0.0) / self.ok if self.ok else float("nan")

    def total(self) -> float:
        return sum(self.per_request(p) for p in PARTS[self.target])


@dataclass
class FloorProcesses:
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    http_port: int = 0
    token: str = ""

    def stop(self) -> None:
        for p in self.processes.values():
            end_child(p, signal.SIGTERM, 10.0)


@contextmanager
def floor_processes(dsn: str, nats_url: str, log: Path) -> Iterator[FloorProcesses]:
    fp = FloorProcesses(http_port=free_port(), token=secrets.token_urlsafe(24))
    grpc_port = free_port()
    env = {
        **os.environ,
        "FLOOR_DSN": dsn,
        "FLOOR_NATS": nats_url,
        "FLOOR_TOKEN": fp.token,
        "FLOOR_DIRECTORY": f"127.0.0.1:{grpc_port}",
        "FLOOR_HTTP_PORT": str(fp.http_port),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    try:
        with open(log, "ab") as out:
            for part in ("directory", "consumer", "edge"):
                fp.processes[f"floor-{part}"] = subprocess.Popen(
                    [sys.executable, "-m", "bench.floor_parts", part],
                    env=env,
                    cwd=REPO,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        for port in (grpc_port, fp.http_port):
            if not wait_for_port(port, 30.0):
                raise RuntimeError(f"a floor process did not open port {port}; see {log}")
        yield fp
    finally:
        fp.stop()


class Bench:
    def __init__(self, args: argparse.Namespace, infra: Infra) -> None:
        self.args = args
        self.infra = infra
        self.meter = NoiseMeter()
        self.js: JetStreamContext | None = None
        self.settlers: dict[str, Callable[[], Awaitable[bool]]] = {}
        self.runs: list[Run] = []

    async def main(self) -> dict[str, Any]:
        servers = self.infra.servers
        nc = await nats.connect(servers.nats_url, name="bench-floor")
        self.js = js = nc.jetstream()
        await js.add_stream(name=floor_parts.STREAM, subjects=[floor_parts.SUBJECT])
        floor_dsn = await servers.create_database("floor")
        conn = await asyncpg.connect(floor_dsn)
        await conn.execute(floor_parts.SCHEMA)
        await conn.close()
        log = Path(os.environ.get("FLOOR_LOG", self.infra.workdir / "floor.log"))
        ds = Dataset(self.args.users, ())  # users only: no operation here touches a group
        peer_task = asyncio.get_running_loop().run_in_executor(
            None, start_peer, ds, self.infra.workdir / "peer.log"
        )
        await _load_floor(floor_dsn, ds)
        peer = await peer_task
        self.meter.add("scim2-server", peer.pid)
        try:
            async with suite_stack(self.infra) as stack:
                with floor_processes(floor_dsn, servers.nats_url, log) as fp:
                    for name, proc in fp.processes.items():
                        self.meter.add(name, proc.pid)
                    meter_suite(self.meter, self.infra, stack)
                    admin = AdminClient(stack)
                    try:
                        tenant = await admin.enable(
                            "floor-bench", "store", on_create="employee", on_deactivate="remove"
                        )
                    finally:
                        await admin.close()
                    await load_ours(
                        stack.database_url, tenant.connection_id, tenant.workspace_id, tenant.portal, ds
                    )
                    async with (
                        asyncpg.create_pool(stack.database_url, min_size=1, max_size=2) as suite_pool,
                        asyncpg.create_pool(stack.database_url, min_size=4, max_size=16) as sql_pool,
                        asyncpg.create_pool(floor_dsn, min_size=1, max_size=2) as floor_pool,
                        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
                    ):
                        targets = {
                            "suite": HttpTarget(
                                "suite",
                                tenant.on(stack.edge_url),
                                {"Authorization": f"Bearer {tenant.token}"},
                                http,
                            ),
                            "floor": HttpTarget(
                                "floor",
                                f"http://127.0.0.1:{fp.http_port}/scim/v2",
                                {"Authorization": f"Bearer {fp.token}"},
                                http,
                            ),
                            "scim2-server": HttpTarget("scim2-server", f"{peer.url}/v2", {}, http),
                        }
                        self.settlers = {
                            "suite": lambda: self._drained(suite_pool, "directory.outbox", stack.stream),
                            "floor": lambda: self._drained(floor_pool, "floor_outbox", floor_parts.STREAM),
                        }
                        await sql_pool.execute(
                            "CREATE TABLE public.bench_outbox (LIKE directory.outbox INCLUDING ALL)"
                        )
                        await self._measure(targets, sql_pool, Ctx(ds, tenant.connection_id))
                        # Every user the floor created has its account: it loses nothing it was sent.
                        missing = await floor_pool.fetchval(
                            "SELECT count(*) FROM floor_users u WHERE u.user_name LIKE 'post-%' AND NOT "
                            "EXISTS (SELECT 1 FROM floor_accounts a WHERE a.user_id = u.id)"
                        )
                        if missing:
                            raise RuntimeError(f"the floor lost {missing} events")
        finally:
            peer.stop()
            await nc.close()
        return self._results()

    @staticmethod
    def _actions(
        op: str, targets: dict[str, HttpTarget], sql_pool: asyncpg.Pool, ctx: Ctx
    ) -> dict[str, Action]:
        if op == "post":
            actions = {name: post_user(OKTA)(t, ctx) for name, t in targets.items()}
            actions["asyncpg"] = pg_post_user(with_outbox=True)(sql_pool, ctx)
        else:
            actions = {name: _lookup_action(t, ctx.ds.users) for name, t in targets.items()}
            actions["asyncpg"] = pg_filter_eq(sql_pool, ctx)
        return actions

    async def _drained(self, pool: asyncpg.Pool, outbox: str, stream: str) -> bool:
        assert self.js is not None
        if await pool.fetchval(f"SELECT count(*) FROM {outbox}"):
            return False
        for info in await self.js.consumers_info(stream):
            if (info.num_pending or 0) + (info.num_ack_pending or 0):
                return False
        return True

    async def _settle(self, target: str) -> float:
        drained = self.settlers.get(target)
        started = time.monotonic()
        while drained is not None and not await drained():
            if time.monotonic() - started > 120:
                raise RuntimeError(f"{target}: events not applied after 120 s")
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def _measure(self, targets: dict[str, HttpTarget], sql_pool: asyncpg.Pool, ctx: Ctx) -> None:
        for op in OPERATIONS:
            await self._measure_op(op, self._actions(op, targets, sql_pool, ctx))

    async def _measure_op(self, op: str, actions: dict[str, Action]) -> None:
        a = self.args
        counters = {name: Counter() for name in actions}
        for name, action in actions.items():  # warm-up: connections, prepared statements, caches
            await closed_loop(action, counters[name], concurrency=a.concurrency, duration_s=a.warmup_seconds)
            await self._settle(name)
        order = list(actions)
        for r in range(a.runs):
            for name in order[r % len(order) :] + order[: r % len(order)]:
                before = self.meter.snapshot()
                started = time.perf_counter()
                res = await closed_loop(
                    actions[name], counters[name], concurrency=a.concurrency, duration_s=a.run_seconds
                )
                settle_s = await self._settle(name)
                after = self.meter.snapshot()
                run = Run(
                    op,
                    name,
                    res.ok,
                    res.errors,
                    res.elapsed_s,
                    settle_s,
                    self.meter.cpu_ms(before, after),
                    self.meter.foreign_pct(before, after, time.perf_counter() - started),
                    res.first_error,
                )
                self.runs.append(run)
                print(
                    f"{op} run {r + 1} {name:12s} {res.throughput:7.1f} req/s  "
                    f"CPU {run.total():5.2f} ms/req  "
                    f"settle {settle_s:4.2f} s  foreign {run.foreign_pct:4.1f} %  errors {res.errors}",
                    flush=True,
                )

    def _results(self) -> dict[str, Any]:
        out: dict[str, Any] = {"machine": machine(), "args": vars(self.args), "operations": {}}
        for op in OPERATIONS:
            targets: dict[str, Any] = {}
            for target, parts in PARTS.items():
                runs = [r for r in self.runs if r.op == op and r.target == target and r.ok]
                if not runs:
                    continue
                failed = [r for r in self.runs if r.op == op and r.target == target and r.errors]
                targets[target] = {
                    "cpu_ms_per_request": {
                        p: statistics.median(r.per_request(p) for r in runs) for p in parts
                    },
                    "total_ms": statistics.median(r.total() for r in runs),
                    "totals_ms": [r.total() for r in runs],
                    "rps": statistics.median(r.ok / r.elapsed_s for r in runs),
                    "errors": sum(r.errors for r in failed),
                    "first_error": failed[0].first_error if failed else "",
                    "foreign_pct": [r.foreign_pct for r in runs],
                    "settle_s": [r.settle_s for r in runs],
                }
            out["operations"][op] = targets
        return out


async def _load_floor(dsn: str, ds: Dataset) -> None:
    """The dataset's users in the floor's table, as documents with the shape the floor's create stores."""
    stamp = datetime.now(UTC)
    records = []
    for i in range(ds.users):
        name = user_name(i)
        doc = user_body(name, i)
        doc["id"] = user_id(name)
        doc["meta"] = {"resourceType": "User", "created": stamp.isoformat(), "version": 'W/"1"'}
        records.append((uuid.UUID(doc["id"]), name, orjson.dumps(doc).decode(), stamp))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "floor_users", columns=["id", "user_name", "doc", "created_at"], records=records
        )
        await conn.execute("ANALYZE floor_users")
    finally:
        await conn.close()


def _lookup_action(t: HttpTarget, users: int) -> Action:
    """Okta's `userName eq` lookup of a dataset user (same random sequence on every target)."""
    rng = random.Random(f"floor-eq/{t.name}")

    async def act(k: int) -> None:
        name = user_name(rng.randrange(users))
        _, raw = await t.call("GET", "/Users", OKTA, params=OKTA.lookup_params(name))
        if json_of(raw).get("totalResults") != 1:
            raise WrongAnswer(f"{t.name}: lookup of {name} -> {raw[:200]!r}")

    return act


TITLES = {"post": "Okta `POST /Users`", "eq": "Okta `GET /Users?filter=userName eq`"}


def report(res: dict[str, Any]) -> str:
    m, a = res["machine"], res["args"]
    lines = [
        "# The architecture's floor, beside the suite and scim2-server",
        "",
        f"{m['date']}, commit `{m['git']}`, {m['nproc']} cores ({m['cpu']}), Python {m['python']}, load "
        f"average at start {m['loadavg_at_start']}. {a['users']:,} users in each. {a['runs']} runs of "
        f"{a['run_seconds']} s per target at c = {a['concurrency']}, order rotated; CPU of every process "
        "tree from the start of a run until its events were applied, per request answered (median of the "
        "runs).",
    ]
    for op, targets in res["operations"].items():
        peer, sql = targets["scim2-server"], targets["asyncpg"]
        lines += [
            "",
            f"## {TITLES[op]}",
            "",
            "| target | CPU ms/request | x scim2-server | req/s | req/s x scim2-server | req/s / asyncpg "
            "| runs (ms) | errors | foreign CPU % |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in targets.items():
            lines.append(
                f"| {name} | {r['total_ms']:.2f} | {r['total_ms'] / peer['total_ms']:.2f}x | "
                f"{r['rps']:.0f} | "
                f"{r['rps'] / peer['rps']:.2f}x | {r['rps'] / sql['rps'] * 100:.0f} % | "
                + ", ".join(f"{x:.2f}" for x in r["totals_ms"])
                + f" | {r['errors']} | "
                + ", ".join(f"{x:.0f}" for x in r["foreign_pct"])
                + " |"
            )
        lines.append(
            "\n(asyncpg: PostgreSQL's CPU only; the driver runs in the load generator, whose CPU no target "
            "counts.)"
        )
        lines += ["", "Per process (ms of CPU per request):", ""]
        for name in ("suite", "floor"):
            parts = targets[name]["cpu_ms_per_request"]
            lines.append(f"* {name}: " + ", ".join(f"{p} {v:.2f}" for p, v in parts.items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--run-seconds", type=float, default=5.0)
    p.add_argument("--warmup-seconds", type=float, default=2.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--users", type=int, default=100_000, help="users loaded into each target first")
    args = p.parse_args(argv)
    install_fast_loop()  # the client runs on uvloop, as `make bench`'s does
    with infrastructure(durable=True) as infra:
        res = asyncio.run(Bench(args, infra).main())
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"floor-{stamp}.json").write_text(json.dumps(res, indent=2))
    text = report(res)
    (RESULTS / f"floor-{stamp}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
