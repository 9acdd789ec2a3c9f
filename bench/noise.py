"""How much of the machine was used by others during a run: the honest noise figure for a shared box.

busy(all CPUs) from /proc/stat minus the CPU time of the benchmark's own process trees (this client, the
services, PostgreSQL with its backends, nats-server, uvicorn) = CPU taken by everything else, such as
other engineers' test runs. Reported as a percentage of all cores over the run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _total_busy_ticks() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(x) for x in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values[:8]) - idle


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, utime + stime + children's cutime + cstime) for every process we can read."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            rest = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # Fields after the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based here.
        table[int(entry.name)] = (int(rest[1]), int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14]))
    return table


@dataclass
class Snapshot:
    busy: int
    ours: int


class NoiseMeter:
    """Counts the CPU of `roots` and all their descendants as ours; the rest of the busy time is foreign."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = set(roots) | {os.getpid()}

    def add_root(self, pid: int) -> None:
        self.roots.add(pid)

    def _ours(self) -> int:
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        seen: set[int] = set()
        stack = [p for p in self.roots if p in table]
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            stack.extend(children.get(pid, []))
        return sum(table[p][1] for p in seen)

    def snapshot(self) -> Snapshot:
        return Snapshot(_total_busy_ticks(), self._ours())

    @staticmethod
    def foreign_pct(before: Snapshot, after: Snapshot, elapsed_s: float) -> float:
        if elapsed_s <= 0:
            return float("nan")
        foreign_ticks = max(0, (after.busy - before.busy) - (after.ours - before.ours))
        return foreign_ticks / _TICKS / elapsed_s / (os.cpu_count() or 1) * 100
