"""The run's results as markdown: machine, targets, every operation side by side, lag, SPEC, RSS, noise."""

from __future__ import annotations

import math
import statistics
from typing import Any

TARGETS = ("ours", "scim2-server", "asyncpg")
NOISY_SPREAD_PCT = 20.0  # throughput runs disagreeing by more than this are flagged
NOISY_FOREIGN_PCT = 10.0  # other processes using more than this share of the box during a run


def _f(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}f}"


def _cell_rps(t: dict[str, Any] | None) -> str:
    if not t:
        return "-"
    med, lo, hi = t["throughput_rps"]
    err = f" ⚠{t['errors']} err" if t["errors"] else ""
    if len(t["runs"]) == 1:
        return f"{_f(med, 2)} (1 run){err}"
    return f"{_f(med)} ({_f(lo)}-{_f(hi)}){err}"


def _cell_lat(t: dict[str, Any] | None) -> str:
    if not t:
        return "-"
    return f"{_f(t['p50_ms'][0], 2)} / {_f(t['p99_ms'][0], 1)}"


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    ours, theirs = a["throughput_rps"][0] if a else None, b["throughput_rps"][0] if b else None
    if ours is None or not theirs or math.isnan(ours) or math.isnan(theirs):
        return "-"
    r = ours / theirs
    return f"{r:.1f}x" if r >= 1 or r == 0 else f"{r:.2f}x"


def _noise(t: dict[str, Any]) -> tuple[float, float, float]:
    foreign = [r["foreign_cpu_pct"] for r in t["runs"] if r.get("foreign_cpu_pct") is not None]
    iowait = [r["iowait_pct"] for r in t["runs"] if r.get("iowait_pct") is not None]
    spread = t.get("spread_pct")
    # Results read back from JSON have null where there was no sample (NaN is not JSON).
    return (
        (math.nan if spread is None else spread),
        max(foreign, default=math.nan),
        max(iowait, default=math.nan),
    )


def render(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    ds = results.get("dataset", {})
    cfg = results.get("config", {})
    load = results.get("load", {})
    lines = [
        "# Benchmark results",
        "",
        f"Command: `.venv/bin/python -m bench.run{' ' + cfg['argv'] if cfg.get('argv') else ''}` · "
        f"{m.get('date', '?')} · {m.get('nproc', '?')} cores ({m.get('cpu', '?')}) · "
        f"Python {m.get('python', '?')} · git {m.get('git', '?')} · "
        f"load average at start {m.get('loadavg_at_start', '?')}",
        "",
        f"Dataset: {ds.get('users', 0):,} users; groups of "
        f"{', '.join(f'{s:,}' for s in ds.get('group_sizes', []))} members. "
        f"Load: ours COPY {_f(load.get('ours_copy_s'))} s; "
        f"scim2-server in-process {_f(load.get('peer_inprocess_s'))} s (until its port opened). "
        f"{cfg.get('runs', '?')} measured runs of {cfg.get('run_s', '?')} s per operation and target after "
        f"{cfg.get('warmup_s', '?')} s of warm-up; cells show the median and (min-max) over runs.",
        "",
        "## Targets",
        "",
        "| Target | Goal | Measured | Met |",
        "|---|---|---|---|",
    ]
    for t in results.get("targets", []):
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {'✅' if t['met'] else '❌'} |")
    lines += [
        "",
        "## Operations",
        "",
        "Throughput in requests/s; latency p50 / p99 in ms, measured at the client. "
        "c = concurrent client workers.",
        "",
        "| Operation | c | ours req/s | ours p50 / p99 | scim2-server req/s | scim2-server p50 / p99 "
        "| asyncpg req/s | asyncpg p50 / p99 | ours / scim2-server | ours / asyncpg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    noisy: list[str] = []
    for key, op in results.get("operations", {}).items():
        ts = op["targets"]
        o, p, a = (ts.get(n) for n in TARGETS)
        lines.append(
            f"| {op['title']} | {op['concurrency']} | {_cell_rps(o)} | {_cell_lat(o)} | {_cell_rps(p)} | "
            f"{_cell_lat(p)} | {_cell_rps(a)} | {_cell_lat(a)} | {_ratio(o, p)} | {_ratio(o, a)} |"
        )
        for label, title in op.get("variants", {}).items():
            v = ts.get(label)
            lines.append(f"| {title} | {op['concurrency']} | {_cell_rps(v)} | {_cell_lat(v)} | | | | | | |")
        for name, t in ts.items():
            spread, foreign, iowait = _noise(t)
            if spread > NOISY_SPREAD_PCT or foreign > NOISY_FOREIGN_PCT:
                noisy.append(
                    f"{key}/{name}: spread {_f(spread, 0)} %, foreign CPU up to {_f(foreign, 0)} %, "
                    f"iowait up to {_f(iowait, 0)} %"
                )
            if t.get("first_error"):
                noisy.append(f"{key}/{name}: {t['errors']} errors, first: `{t['first_error'][:160]}`")
    notes = [op["note"] for op in results.get("operations", {}).values() if op.get("note")]
    if notes:
        lines += ["", *(f"- {n}" for n in notes)]

    lines += _cpu_table(results)

    lag = results.get("lag")
    if lag:
        lines += [
            "",
            f"## Event → portal-action lag (POST /Users at {lag['rate']:.0f}/s "
            f"for {lag['duration_s']:.0f} s, "
            "Store tenant, on_create=employee)",
            "",
            "| Run | achieved req/s | POST p50 / p99 ms | lag p50 ms | lag p99 ms | lag max ms | "
            "lag from 201, p50 / p99 ms | accounts missing | errors | foreign CPU % | iowait % |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for i, r in enumerate(lag["runs"], 1):
            lines.append(
                f"| {i} | {_f(r['achieved_rps'])} | {_f(r['post_p50_ms'])} / {_f(r['post_p99_ms'])} | "
                f"{_f(r['lag_p50_ms'])} | {_f(r['lag_p99_ms'])} | {_f(r['lag_max_ms'])} | "
                f"{_f(r['lag_from_201_p50_ms'])} / {_f(r['lag_from_201_p99_ms'])} | "
                f"{r['accounts_missing']} | "
                f"{r['errors']} | {_f(r['foreign_cpu_pct'], 0)} | {_f(r.get('iowait_pct'), 0)} |"
            )
        lines += [
            "",
            "Lag = portal.accounts.updated_at - directory.users.created_at (one host clock; bench/lag.py).",
        ]

    spec = results.get("spec")
    if spec:
        labels = list(spec)
        lines += [
            "",
            "## Okta SPEC test, slowest of the repeats per step (ms)",
            "",
            "| Step | " + " | ".join(labels) + " |",
            "|---|" + "---|" * len(labels),
        ]
        steps = list(next(iter(spec.values()))["max_ms_by_step"])
        for s in steps:
            lines.append(
                f"| {s} | " + " | ".join(_f(spec[lab]["max_ms_by_step"].get(s)) for lab in labels) + " |"
            )
        lines.append(
            "| background load (req/s) | "
            + " | ".join(_f(spec[lab].get("background_rps")) for lab in labels)
            + " |"
        )
        for lab in labels:
            if spec[lab]["failures"]:
                lines.append(
                    f"\n{lab} failures: " + "; ".join(f"`{f[:150]}`" for f in spec[lab]["failures"][:3])
                )

    rss = results.get("peak_rss_kib")
    if rss:
        lines += ["", "## Peak RSS (VmHWM)", "", "| Process | MiB |", "|---|---|"]
        lines += [f"| {k} | {_f(v / 1024 if v else None, 0)} |" for k, v in rss.items()]

    lines += ["", "## Noise", ""]
    lines.append(
        f"Runs flagged as noisy (throughput spread > {NOISY_SPREAD_PCT:.0f} % or other processes using > "
        f"{NOISY_FOREIGN_PCT:.0f} % of the box), and errors:"
    )
    lines += [""] + ([f"- {n}" for n in noisy] or ["- none"])
    catch_up = [
        f"{key}/{name} {seconds:.1f} s"
        for key, op in results.get("operations", {}).items()
        for name, seconds in (op.get("portal_catch_up_s") or {}).items()
        if seconds >= 1.0
    ]
    if catch_up:
        lines += [
            "",
            "Time spent after the measured runs of an operation waiting for portal-actions to apply the "
            "events they left behind, summed over the runs (only where ≥ 1 s; the runs themselves are "
            "timed without it): " + "; ".join(catch_up) + ".",
        ]

    profiles = results.get("profiles")
    if profiles:
        lines += [
            "",
            "## Profiles of missed targets (py-spy, our services, 5 s while the operation runs)",
            "",
        ]
        for key, text in profiles.items():
            lines += [f"### {key}", "", "```", text.rstrip(), "```", ""]
    return "\n".join(lines) + "\n"


SERVER_PARTS = (
    "scim-edge",
    "directory",
    "portal-actions",
    "security-events",
    "postgres",
    "nats",
    "scim2-server",
)
OURS = ("scim-edge", "directory", "portal-actions", "security-events", "postgres", "nats")


def _cpu_table(results: dict[str, Any]) -> list[str]:
    """CPU milliseconds per request in each process tree, median over runs: robust to a noisy neighbour."""
    lines = [
        "",
        "## CPU per request (ms, median over runs)",
        "",
        "CPU time of each process tree during the measured runs divided by the requests answered. Unlike "
        "throughput, this barely moves when other processes share the cores. portal-actions also works "
        "on events of earlier requests; security-events reads every event too (it signs SETs only for "
        "connections with a stream); postgres includes all its backends.",
        "",
        "| Operation | target | " + " | ".join(SERVER_PARTS) + " | server total | client |",
        "|---|---|" + "---|" * (len(SERVER_PARTS) + 2),
    ]
    for op in results.get("operations", {}).values():
        for name, t in op["targets"].items():
            per_run = [r.get("cpu_ms_per_request") or {} for r in t["runs"]]
            per_run = [p for p in per_run if p]
            if not per_run:
                continue
            med = {k: statistics.median(p.get(k, 0.0) for p in per_run) for k in per_run[0]}
            relevant = {
                "ours": OURS,
                "ours-lean": OURS,
                "scim2-server": ("scim2-server",),
                "asyncpg": ("postgres",),
            }.get(name, ())
            cells = [_f(med.get(k), 2) if k in relevant else "" for k in SERVER_PARTS]
            total = sum(med.get(k, 0.0) for k in relevant)
            lines.append(
                f"| {op['title']} | {name} | " + " | ".join(cells) + f" | {_f(total, 2)} | "
                f"{_f(med.get('client'), 2)} |"
            )
    return lines
