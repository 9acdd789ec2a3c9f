"""One benchmark run: systems up, dataset in, every operation on every target, lag, SPEC, RSS, profiles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import asyncpg
import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from bench.clients import HttpTarget
from bench.dataset import Dataset, load_ours
from bench.env import Infra, meter_suite, suite_stack, vm_hwm_kib
from bench.lag import LagTest
from bench.load import Action, Counter, Summary, closed_loop
from bench.noise import NoiseMeter
from bench.okta_spec import run_spec
from bench.ops import Ctx, Op, operations
from bench.peer import Peer, start_peer
from bench.profile import py_spy, record, summarise
from bench.targets import evaluate

if TYPE_CHECKING:
    from bench.run import Config

from devstack.admin import AdminClient
from devstack.stack import Stack

RESULTS = Path(__file__).resolve().parent / "results"
SLOW_REQUEST_S = 2.0
PORTAL_CONSUMER = "portal-actions"  # portal-actions' default durable name (PORTAL_CONSUMER)


class Harness:
    def __init__(
        self, cfg: Config, infra: Infra, results: dict[str, Any], log: Callable[[str], None]
    ) -> None:
        self.cfg = cfg
        self.infra = infra
        self.results = results
        self.log = log
        self.ds = Dataset.of(cfg.users)
        self.exit = AsyncExitStack()
        self.stack: Stack | None = None
        self.dsn = ""
        self.peer: Peer | None = None
        self.meter = NoiseMeter()
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None

    def close(self) -> None:
        if self.peer is not None:
            self.peer.stop()

    # -- setup ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        """The whole run; our stack is stopped (and its database dropped) before this returns."""
        async with self.exit:
            await self._run()

    async def _run(self) -> None:
        cfg, ds = self.cfg, self.ds
        self.results["dataset"] = {"users": ds.users, "group_sizes": list(ds.group_sizes)}
        self.log(
            f"starting our stack (durable PostgreSQL, NATS, edge + directory + portal-actions); dataset {ds}"
        )
        self.stack = stack = await self.exit.enter_async_context(suite_stack(self.infra))
        self.dsn = stack.database_url
        meter_suite(self.meter, self.infra, stack)
        admin = AdminClient(stack)
        try:
            tenant = await admin.enable("bench", "store", on_create="employee", on_deactivate="remove")
            lag_tenant = await admin.enable(
                "bench-lag", "store", on_create="employee", on_deactivate="remove"
            )
        finally:
            await admin.close()
        peer_task: asyncio.Future[Peer] | None = None
        if not cfg.skip_peer:
            # The peer loads in its own process while we COPY ours; both load times are reported.
            self.log("starting scim2-server (uvicorn, 1 worker) and loading its dataset in-process")
            peer_task = asyncio.get_running_loop().run_in_executor(
                None, start_peer, ds, self.infra.workdir / "scim2-server.log"
            )
        load_s = await load_ours(self.dsn, tenant.connection_id, tenant.workspace_id, tenant.portal, ds)
        self.log(f"ours: dataset COPY'd in {load_s:.1f}s")
        self.results["load"] = {"ours_copy_s": load_s}
        if peer_task is not None:
            self.peer = await peer_task
            self.meter.add("scim2-server", self.peer.pid)
            self.results["load"]["peer_inprocess_s"] = self.peer.load_s
            self.log(f"scim2-server: dataset loaded, port open after {self.peer.load_s:.1f}s")
        async with asyncpg.create_pool(self.dsn, min_size=4, max_size=16) as pool:
            await pool.execute(
                "CREATE TABLE IF NOT EXISTS public.bench_outbox (LIKE directory.outbox INCLUDING ALL)"
            )
            connector = aiohttp.TCPConnector(limit=0, force_close=False)
            async with aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=300)
            ) as http:
                ours = HttpTarget(
                    "ours", tenant.on(stack.edge_url), {"Authorization": f"Bearer {tenant.token}"}, http
                )
                targets: dict[str, HttpTarget] = {"ours": ours}
                if self.peer is not None:
                    targets["scim2-server"] = HttpTarget("scim2-server", f"{self.peer.url}/v2", {}, http)
                ctx = Ctx(ds, tenant.connection_id)
                await self.run_operations(targets, pool, ctx)
                lag = HttpTarget(
                    "ours",
                    lag_tenant.on(stack.edge_url),
                    {"Authorization": f"Bearer {lag_tenant.token}"},
                    http,
                )
                await self.run_lag(lag, lag_tenant.connection_id, pool)
                await self.run_spec(targets)
                self.record_rss()
                self.results["targets"] = evaluate(self.results)
                if cfg.profile:
                    await self.profile_misses(targets, pool, ctx)
        if self.nc is not None:
            await self.nc.close()

    # -- operations ----------------------------------------------------------------------------------

    async def settle(self, pool: asyncpg.Pool, timeout_s: float = 300.0) -> float:
        """Wait until the events of what ran are published and applied, so that portal-actions does not
        work through one operation's backlog while the next operation is measured. Returns the seconds
        it took: how far portal-actions had fallen behind."""
        started = time.monotonic()
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if await pool.fetchval("SELECT count(*) FROM directory.outbox") == 0:
                break
            await asyncio.sleep(0.2)
        # Published is not applied: JetStream's view of the portal-actions consumer says what is left.
        # (Counting applied events is not enough: one 1,000-member event can take longer than a poll.)
        while time.monotonic() < deadline:
            if await self._portal_pending() == 0:
                break
            await asyncio.sleep(0.2)
        else:
            self.log(f"   portal-actions still had events pending after {timeout_s:.0f}s")
        return time.monotonic() - started

    async def _portal_pending(self) -> int:
        assert self.stack is not None
        if self.js is None:
            self.nc = await nats.connect(self.infra.servers.nats_url, name="bench-settle")
            self.js = self.nc.jetstream()
        info = await self.js.consumer_info(self.stack.stream, PORTAL_CONSUMER)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    def _actions(
        self, op: Op, targets: dict[str, HttpTarget], pool: asyncpg.Pool, ctx: Ctx
    ) -> dict[str, Action]:
        actions: dict[str, Action] = {}
        for name in op.targets:
            if name == "asyncpg":
                if op.pg is not None:
                    actions[name] = op.pg(pool, ctx)
            elif name in targets:
                actions[name] = op.http(targets[name], ctx)
        for label, (base, builder, _) in op.variants.items():
            if base in targets:
                actions[label] = builder(targets[base], ctx)
        return actions

    async def run_operations(self, targets: dict[str, HttpTarget], pool: asyncpg.Pool, ctx: Ctx) -> None:
        cfg = self.cfg
        out: dict[str, Any] = {}
        self.results["operations"] = out
        for op in operations(self.ds):
            if cfg.only and op.key not in cfg.only:
                continue
            actions = self._actions(op, targets, pool, ctx)
            counters = {name: Counter() for name in actions}
            summaries = {name: Summary() for name in actions}
            self.log(f"{op.key}: {op.title} (c={op.concurrency}; {', '.join(actions)})")
            if op.verify is not None:
                for name in actions:
                    if name in targets:
                        await op.verify(targets[name], ctx)
            multiple = 2 if op.concurrency == 1 else 1
            warm_max = 10 if op.max_requests else None
            slow: set[str] = set()
            for name, action in actions.items():
                warm = await closed_loop(
                    action,
                    counters[name],
                    concurrency=op.concurrency,
                    duration_s=cfg.warmup_s,
                    max_requests=warm_max,
                    multiple_of=multiple,
                )
                # A target needing seconds per request (scim2-server's PATCH of a 100k-member group takes
                # tens of seconds) is measured in one run only: three would add many minutes and the
                # spread of a handful of such requests says little anyway. Reported as "1 run".
                if warm.latencies_s and min(warm.latencies_s) > SLOW_REQUEST_S:
                    slow.add(name)
            order = list(actions)
            # Seconds spent after runs waiting for portal-actions to apply the events they left behind.
            catch_up: dict[str, float] = {}
            for r in range(cfg.runs):
                # Rotate the order each run, so slow drifts in background load hit every target alike.
                for name in order[r % len(order) :] + order[: r % len(order)]:
                    if name in slow and r > 0:
                        continue
                    before = self.meter.snapshot()
                    res = await closed_loop(
                        actions[name],
                        counters[name],
                        concurrency=op.concurrency,
                        duration_s=cfg.run_s,
                        max_requests=op.max_requests,
                        multiple_of=multiple,
                    )
                    after = self.meter.snapshot()
                    res.foreign_cpu_pct = self.meter.foreign_pct(before, after, res.elapsed_s)
                    res.iowait_pct = self.meter.iowait_pct(before, after, res.elapsed_s)
                    res.cpu_ms = self.meter.cpu_ms(before, after)
                    summaries[name].runs.append(res)
                    if "write" in op.tags or op.concurrency == 1:
                        catch_up[name] = catch_up.get(name, 0.0) + await self.settle(pool)
            catch_up["(end)"] = await self.settle(pool)
            out[op.key] = {
                "variants": {label: title for label, (_, _, title) in op.variants.items()},
                "portal_catch_up_s": catch_up,
                "title": op.title,
                "concurrency": op.concurrency,
                "note": op.note,
                "tags": sorted(op.tags),
                "targets": {n: s.to_json() for n, s in summaries.items()},
            }
            for name, s in summaries.items():
                med, lo, hi = s.throughput
                self.log(
                    f"   {name:13s} {med:8.1f} req/s ({lo:.1f}-{hi:.1f})  p50 {s.p50_ms[0]:7.2f} ms  "
                    f"p99 {s.p99_ms[0]:7.2f} ms  errors {s.errors} {s.first_error[:120]}"
                )

    # -- lag, SPEC, RSS ------------------------------------------------------------------------------

    async def run_lag(self, target: HttpTarget, connection_id: str, pool: asyncpg.Pool) -> None:
        cfg = self.cfg
        test = LagTest(target, self.dsn, connection_id)
        self.log(f"lag: POST /Users at {cfg.lag_rate:.0f}/s for {cfg.lag_s:.0f}s, {cfg.lag_runs} runs")
        await test.run(cfg.lag_rate, 1.0)  # warm-up
        runs = []
        for _ in range(cfg.lag_runs):
            await self.settle(pool)  # each run starts with portal-actions caught up
            before = self.meter.snapshot()
            t0 = time.perf_counter()
            r = await test.run(cfg.lag_rate, cfg.lag_s)
            after, elapsed = self.meter.snapshot(), time.perf_counter() - t0
            r.foreign_cpu_pct = self.meter.foreign_pct(before, after, elapsed)
            r.iowait_pct = self.meter.iowait_pct(before, after, elapsed)
            runs.append(r.to_json())
            j = runs[-1]
            self.log(
                f"   achieved {j['achieved_rps']:.0f}/s, POST p50 {j['post_p50_ms']:.1f} ms p99 "
                f"{j['post_p99_ms']:.1f} ms; lag p50 {j['lag_p50_ms']:.1f} ms p99 {j['lag_p99_ms']:.1f} ms; "
                f"missing {j['accounts_missing']}, errors {j['errors']}"
            )
        self.results["lag"] = {"rate": cfg.lag_rate, "duration_s": cfg.lag_s, "runs": runs}

    async def run_spec(self, targets: dict[str, HttpTarget]) -> None:
        out: dict[str, Any] = {}
        for name, target in targets.items():
            for under_load in (False, True):
                label = f"{name}/{'load' if under_load else 'idle'}"
                times, load = await run_spec(
                    target, self.ds.users, self.cfg.spec_repeats, under_load=under_load
                )
                entry = times.to_json()
                if load is not None:
                    entry["background_rps"] = load.throughput
                    entry["background_errors"] = load.errors
                out[label] = entry
                self.log(
                    f"SPEC {label}: slowest step {entry['max_ms']:.1f} ms; failures {len(times.failures)}"
                )
        self.results["spec"] = out

    def record_rss(self) -> None:
        assert self.stack is not None
        rss: dict[str, int | None] = {
            "scim-edge": vm_hwm_kib(self.stack.edges[0].pid),
            "directory": vm_hwm_kib(self.stack.directories[0].pid),
            "portal-actions": vm_hwm_kib(self.stack.portals[0].pid),
        }
        if self.peer is not None:
            rss["scim2-server"] = vm_hwm_kib(self.peer.pid)
        self.results["peak_rss_kib"] = rss

    # -- profiles of misses --------------------------------------------------------------------------

    async def profile_misses(self, targets: dict[str, HttpTarget], pool: asyncpg.Pool, ctx: Ctx) -> None:
        if py_spy() is None:
            self.log("py-spy not installed: no profiles of the missed targets")
            return
        assert self.stack is not None
        missed = {op for t in self.results["targets"] if not t["met"] for op in t.get("profile_ops", [])}
        ops = {op.key: op for op in operations(self.ds)}
        procs = {
            "scim-edge": self.stack.edges[0].pid,
            "directory": self.stack.directories[0].pid,
            "portal-actions": self.stack.portals[0].pid,
        }
        out: dict[str, str] = {}
        RESULTS.mkdir(exist_ok=True)
        for key in sorted(missed):
            if key == "lag":
                run = LagTest(targets["ours"], self.dsn, ctx.connection_id)
                work: Any = run.run(self.cfg.lag_rate, 6.0)
            elif key in ops and "ours" in targets:
                op = ops[key]
                work = closed_loop(
                    op.http(targets["ours"], ctx),
                    Counter(),
                    concurrency=op.concurrency,
                    duration_s=6.0,
                    multiple_of=2 if op.concurrency == 1 else 1,
                )
            else:
                continue
            self.log(f"profiling {key} with py-spy (edge, directory, portal-actions)")
            files = {name: RESULTS / f"profile-{key}-{name}.txt" for name in procs}
            recorders = [record(pid, 5.0, files[name].with_suffix(".raw")) for name, pid in procs.items()]
            await asyncio.gather(work, *recorders)
            text = []
            for name in procs:
                raw = files[name].with_suffix(".raw")
                summary = summarise(raw) if raw.exists() else "  (py-spy failed)\n"
                text.append(f"{name}:\n{summary}")
                raw.unlink(missing_ok=True)
            out[key] = "\n".join(text)
            await self.settle(pool)
        self.results["profiles"] = out
