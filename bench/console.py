"""What the admin console costs: the provisioning log's share of POST /Users throughput, and the time
console pages take at N users with a group of N members.

    .venv/bin/python -m bench.console                   # 100,000 users, a 100,000-member group
    .venv/bin/python -m bench.console --users 2000 --run-s 3 --runs 1    # a smoke run (≈ 1 min)

1. Two edges over the same directory, one recording the provisioning log (the default) and one with
   `EDGE_REQUEST_LOG=0`, take closed-loop POST /Users (Okta's body, c=16) in alternating runs; the
   figure is the median throughput with the log ÷ without it (target: ≥ 0.95, i.e. < 5 % cost).
2. The dataset is COPYed into one Store connection (bench/dataset.py), a console is started, and the
   pages an admin opens are fetched one after another (p50/p99 at the client; target: < 200 ms each).

Results go to bench/results/console-latest.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
from devstack.services import ServiceProcess, wait_http_port
from suite_common.embedded.processes import free_port

from bench import dataset
from bench.env import infrastructure, machine, suite_stack
from bench.load import Counter, closed_loop, percentile
from tests.support.admin import Admin
from tests.support.console import ConsoleClient
from tests.support.stack import Stack

RESULTS = Path(__file__).resolve().parent / "results"
LOG_COST_TARGET = 0.95
PAGE_TARGET_MS = 200.0


def _extra_edge(stack: Stack, log_enabled: bool) -> tuple[ServiceProcess, str]:
    port = free_port()
    edge = ServiceProcess(
        "scim-edge",
        {
            "EDGE_PORT": str(port),
            "DIRECTORY_ADDR": stack.directory_target,
            "EDGE_REQUEST_LOG": "1" if log_enabled else "0",
            "EDGE_RATE_LIMIT_PER_SECOND": "100000",
            "EDGE_RATE_LIMIT_BURST": "100000",
            "LOG_LEVEL": "WARNING",
        },
        stack.log_dir / f"bench-edge-{'log' if log_enabled else 'nolog'}.log",
    )
    edge.start()
    assert wait_http_port(port, 30), "bench edge did not start"
    return edge, f"http://127.0.0.1:{port}"


async def log_cost(stack: Stack, admin: Admin, runs: int, run_s: float, concurrency: int) -> dict[str, Any]:
    tenant = await admin.enable(f"bench-log-{time.time_ns()}", "store", on_create="employee")
    path = tenant.base_url.split("/scim/v2/", 1)[1]
    with_log, url_log = _extra_edge(stack, True)
    without_log, url_plain = _extra_edge(stack, False)
    throughput: dict[str, list[float]] = {"log": [], "no_log": []}
    counter = Counter()
    try:
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {tenant.token}", "User-Agent": "Okta SCIM Client 1.0.0"}
        ) as http:

            def post_to(base: str) -> Any:
                async def action(k: int) -> None:
                    body = dataset.user_body(f"bench.log.{k}@example.com", k, password=True)
                    async with http.post(f"{base}/scim/v2/{path}/Users", json=body) as r:
                        await r.read()
                        if r.status != 201:
                            raise RuntimeError(f"POST answered {r.status}")

                return action

            # Warm-up of both, then alternate so drift on the shared box hits both sides alike.
            for base in (url_log, url_plain):
                await closed_loop(post_to(base), counter, concurrency=concurrency, duration_s=min(2.0, run_s))
            for i in range(runs):
                order = [("log", url_log), ("no_log", url_plain)]
                for name, base in order if i % 2 == 0 else reversed(order):
                    result = await closed_loop(
                        post_to(base), counter, concurrency=concurrency, duration_s=run_s
                    )
                    throughput[name].append(result.throughput)
    finally:
        with_log.terminate()
        without_log.terminate()
    ratio = statistics.median(throughput["log"]) / statistics.median(throughput["no_log"])
    return {
        "throughput_with_log": throughput["log"],
        "throughput_without_log": throughput["no_log"],
        "ratio": ratio,
        "met": ratio >= LOG_COST_TARGET,
    }


async def page_times(
    stack: Stack, admin: Admin, users: int, samples: int, database_url: str
) -> dict[str, Any]:
    tenant = await admin.enable(f"bench-console-{time.time_ns()}", "store", on_create="employee")
    ds = dataset.Dataset.of(users)
    load_s = await dataset.load_ours(database_url, tenant.connection_id, tenant.workspace_id, "store", ds)
    console_url = stack.start_console()
    client = ConsoleClient(console_url)
    largest = dataset.group_id(dataset.group_name(ds.group_sizes[-1]))
    someone = dataset.user_id(dataset.user_name(users // 2))
    base = f"/workspaces/{tenant.workspace_id}/store"
    out: dict[str, Any] = {"users": users, "largest_group": ds.group_sizes[-1], "load_s": load_s, "pages": {}}
    try:
        await client.sign_in(stack.admin_token)
        members = await client.get(f"{base}/groups/{largest}")
        after = re.search(r"after=([0-9a-f-]{36})", members.text)
        pages = {
            "workspace": f"/workspaces/{tenant.workspace_id}",
            "people (first page)": f"{base}/people",
            "people (search)": f"{base}/people?q=user.0123",
            "people (page at the middle)": f"{base}/people?after={dataset.user_name(users // 2)}",
            "person": f"{base}/people/{someone}",
            "groups": f"{base}/groups",
            f"group of {ds.group_sizes[-1]} members (first page)": f"{base}/groups/{largest}",
            f"group of {ds.group_sizes[-1]} members (next page)": f"{base}/groups/{largest}"
            + (f"?after={after.group(1)}" if after else ""),
            "provisioning log": f"{base}/log",
            "tokens": f"{base}/tokens",
        }
        for name, path in pages.items():
            times: list[float] = []
            for _ in range(samples + 2):
                t0 = time.perf_counter()
                page = await client.get(path)
                times.append((time.perf_counter() - t0) * 1000.0)
                assert page.status == 200, (name, page.status)
            times = times[2:]  # the first two warm caches
            p50, p99 = percentile(times, 50), percentile(times, 99)
            out["pages"][name] = {"p50_ms": p50, "p99_ms": p99, "met": p99 < PAGE_TARGET_MS}
    finally:
        await client.close()
    return out


def report(results: dict[str, Any]) -> str:
    lines = [
        "# Admin console benchmark",
        "",
        "{date} · load at start {loadavg_at_start} · git `{git}`".format(**results["machine"])
        + f" · {results['pages']['users']:,} users",
        "",
        "## Provisioning log cost (POST /Users, closed loop)",
        "",
        "| with log (req/s) | without log (req/s) | ratio | target ≥ 0.95 |",
        "|---|---|---|---|",
    ]
    c = results["log_cost"]
    with_log, without = (
        statistics.median(c["throughput_with_log"]),
        statistics.median(c["throughput_without_log"]),
    )
    lines.append(f"| {with_log:.0f} | {without:.0f} | {c['ratio']:.3f} | {'✅' if c['met'] else '❌'} |")
    lines += ["", "## Console pages", "", "| page | p50 ms | p99 ms | < 200 ms |", "|---|---|---|---|"]
    for name, p in results["pages"]["pages"].items():
        lines.append(f"| {name} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} | {'✅' if p['met'] else '❌'} |")
    return "\n".join(lines) + "\n"


async def _run(stack: Stack, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    admin = Admin(stack)
    try:
        cost = await log_cost(stack, admin, args.runs, args.run_s, args.concurrency)
        pages = await page_times(stack, admin, args.users, args.samples, database_url)
    finally:
        await admin.close()
    return {"log_cost": cost, "pages": pages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="measured runs per side of the log cost")
    parser.add_argument("--run-s", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--samples", type=int, default=20, help="requests per console page")
    parser.add_argument("--out", default="console-latest")
    args = parser.parse_args(argv)
    facts = machine()

    async def measure() -> dict[str, Any]:
        with infrastructure() as infra:
            async with suite_stack(infra) as stack:
                return await _run(stack, stack.database_url, args)

    results = asyncio.run(measure())
    results["machine"] = facts
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(results, indent=2))
    text = report(results)
    (RESULTS / f"{args.out}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
