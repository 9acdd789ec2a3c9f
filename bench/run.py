"""`make bench`: the whole benchmark in one command.

    .venv/bin/python -m bench.run            # 100k users, groups of 10 / 1k / 10k / 100k (≈ 15 min)
    .venv/bin/python -m bench.run --quick    # 3k users, shorter runs: a smoke run (≈ 3 min)

One run starts a durable PostgreSQL, nats-server and our three services, loads the dataset, starts
scim2-server (uvicorn, one worker) with the same dataset, and drives the same requests at both, plus the
same statements straight through asyncpg. Results: bench/results/latest.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_EXTRA = ("scim2_server", "uvicorn", "httptools")


def check_dependencies() -> None:
    missing = [m for m in BENCH_EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        sys.exit(
            f"bench: missing {', '.join(missing)}. Install the bench extra: "
            f".venv/bin/pip install -e '.[bench]'  (scim2-server, uvicorn, httptools, py-spy)"
        )


@dataclass
class Config:
    users: int
    runs: int
    warmup_s: float
    run_s: float
    lag_rate: float
    lag_s: float
    lag_runs: int
    spec_repeats: int
    profile: bool
    only: set[str] = field(default_factory=set)
    skip_peer: bool = False


def parse_args(argv: list[str] | None = None) -> Config:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="3k users, 3 runs of 1.5 s: a smoke run")
    p.add_argument("--users", type=int, default=None, help="dataset size (default 100000; --quick: 3000)")
    p.add_argument("--runs", type=int, default=3, help="measured runs per operation and target (default 3)")
    p.add_argument(
        "--run-seconds", type=float, default=None, help="length of one run (default 4; --quick 1.5)"
    )
    p.add_argument("--lag-rate", type=float, default=200.0, help="POST rate of the lag test (default 200/s)")
    p.add_argument("--only", default="", help="comma-separated operation keys to run (default: all)")
    p.add_argument(
        "--no-profile", action="store_true", help="do not py-spy the operations that miss a target"
    )
    p.add_argument(
        "--skip-peer", action="store_true", help="do not start scim2-server (ratios are then blank)"
    )
    a = p.parse_args(argv)
    quick = a.quick
    return Config(
        users=a.users or (3_000 if quick else 100_000),
        runs=a.runs,
        warmup_s=0.5 if quick else 2.0,
        run_s=a.run_seconds or (1.5 if quick else 4.0),
        lag_rate=a.lag_rate,
        lag_s=3.0 if quick else 10.0,
        lag_runs=2 if quick else 3,
        spec_repeats=3 if quick else 5,
        profile=not a.no_profile,
        only={s.strip() for s in a.only.split(",") if s.strip()},
        skip_peer=a.skip_peer,
    )


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    check_dependencies()
    cfg = parse_args(argv)
    # gRPC core logs a line at every fork (py-spy is started from this process); keep the output readable.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from bench.env import infrastructure, machine

    args = " ".join(sys.argv[1:] if argv is None else argv)
    results: dict[str, Any] = {
        "machine": machine(),
        "config": cfg.__dict__ | {"only": sorted(cfg.only), "argv": args},
    }
    started = time.perf_counter()
    with infrastructure(durable=True) as infra:
        from bench.harness import Harness

        harness = Harness(cfg, infra, results, log)
        try:
            asyncio.run(harness.run())
        finally:
            harness.close()
    results["wall_s"] = time.perf_counter() - started
    from bench.report import render

    RESULTS.mkdir(exist_ok=True)
    markdown = render(results)
    (RESULTS / "latest.md").write_text(markdown)
    (RESULTS / "latest.json").write_text(json.dumps(_finite(results), indent=1, default=str))
    print(markdown)
    log(f"done in {results['wall_s']:.0f}s; wrote {RESULTS / 'latest.md'} and latest.json")


def _finite(value: Any) -> Any:
    """NaN (no sample) becomes null: JSON has no NaN."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, set):
        return sorted(value)
    return value


if __name__ == "__main__":
    main()
