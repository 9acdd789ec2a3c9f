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


def _cpu_ticks() -> tuple[int, int]:
    """(busy, iowait) ticks of all CPUs since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(x) for x in fields]
    iowait = values[4] if len(values) > 4 else 0
    return sum(values[:8]) - values[3] - iowait, iowait


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
    components: dict[str, int]
    iowait: int = 0


class NoiseMeter:
    """Counts the CPU of named process trees (components) as ours; the rest of the busy time is foreign.

    The per-component deltas also give the CPU cost of one request in each process (edge, directory,
    PostgreSQL, ...), a figure much less sensitive to a noisy neighbour than throughput is.
    """

    def __init__(self) -> None:
        self.components: dict[str, int] = {"client": os.getpid()}

    def add(self, name: str, pid: int) -> None:
        self.components[name] = pid

    def snapshot(self) -> Snapshot:
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        per: dict[str, int] = {}
        for name, root in self.components.items():
            seen: set[int] = set()
            stack = [root] if root in table else []
            while stack:
                pid = stack.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                # The client's own children (py-spy) are not part of the client's cost.
                if name != "client" or pid == root:
                    stack.extend(p for p in children.get(pid, []) if p not in self.components.values())
            per[name] = sum(table[p][1] for p in seen)
        busy, iowait = _cpu_ticks()
        return Snapshot(busy, sum(per.values()), per, iowait)

    @staticmethod
    def iowait_pct(before: Snapshot, after: Snapshot, elapsed_s: float) -> float:
        """Share of the box's CPU time spent idle waiting for disk I/O: fsync stalls on a shared disk."""
        if elapsed_s <= 0:
            return float("nan")
        return (after.iowait - before.iowait) / _TICKS / elapsed_s / (os.cpu_count() or 1) * 100

    @staticmethod
    def cpu_ms(before: Snapshot, after: Snapshot) -> dict[str, float]:
        """CPU milliseconds each component used between two snapshots."""
        return {k: (after.components.get(k, 0) - v) / _TICKS * 1000 for k, v in before.components.items()}

    @staticmethod
    def foreign_pct(before: Snapshot, after: Snapshot, elapsed_s: float) -> float:
        if elapsed_s <= 0:
            return float("nan")
        foreign_ticks = max(0, (after.busy - before.busy) - (after.ours - before.ours))
        return foreign_ticks / _TICKS / elapsed_s / (os.cpu_count() or 1) * 100
