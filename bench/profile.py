"""py-spy sampling of our service processes while one operation runs, summarised as text.

py-spy attaches from outside (ptrace), so the services run unmodified. Its output in `raw` format is one
line per distinct stack, `frame;frame;...;leaf count`; the summary gives, per process, the functions with
the most samples on-CPU ("self") and the project functions with the most samples anywhere in the stack
("total"), which is what points at a fix.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sysconfig
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
_OURS = ("services/", "libs/", "scim_edge", "directory/", "portal_actions", "scim_core", "suite_common")


def py_spy() -> str | None:
    candidate = Path(sysconfig.get_path("scripts")) / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, out: Path, rate: int = 100) -> bool:
    """Sample `pid` with native frames, so time inside uvloop, gRPC core or asyncpg's Cython protocol is
    named instead of showing as the Python frame that called into it. Native sampling pauses the process at
    each sample: profiles are taken in separate, unmeasured runs."""
    exe = py_spy()
    if exe is None:
        return False
    proc = await asyncio.create_subprocess_exec(
        exe,
        "record",
        "--native",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        # Kept next to the results: py-spy's reason (usually ptrace permissions) explains a missing profile.
        await asyncio.to_thread(out.with_suffix(".err").write_bytes, err)
        return False
    return True


def _short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("site-packages/", "/services/", "/libs/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({path}:{m.group('line') or '?'})"


# Native leaves that mean "waiting", not working: with --native, py-spy cannot tell an idle event loop from
# a busy one, so these samples are counted apart.
_IDLE = (
    "epoll_wait ",
    "epoll_pwait ",
    "poll (",
    "select (",
    "pthread_cond_wait",
    "pthread_cond_timedwait",
    "nanosleep",
    "clock_nanosleep",
    "sem_timedwait",
)


def _is_ours(frame: str) -> bool:
    return any(m in frame for m in _OURS)


def summarise(raw: Path, top: int = 12) -> str:
    """Three views of a py-spy raw (collapsed stacks) file.

    * self: the leaf frame on CPU (C code shows as the Python frame that called it, e.g. the event loop);
    * by project function: each sample charged to the deepest frame of our own code, i.e. which of our
      functions the time is spent in or under, libraries included;
    * total: project functions anywhere in the stack (frames present in nearly every sample are dropped).
    """
    own: Counter[str] = Counter()
    deepest: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # py-spy puts the thread name first; it is not a frame.
        frames = [f for f in (_short(f) for f in stack.split(";")) if "(" in f]
        if not frames:
            continue
        if frames[-1].startswith(_IDLE):
            idle += count
            continue
        samples += count
        own[frames[-1]] += count
        ours = [f for f in frames if _is_ours(f) and not f.startswith(("main ", "<module> "))]
        deepest[ours[-1] if ours else "(no project frame: event loop, gRPC or driver internals)"] += count
        for f in set(frames):
            total[f] += count
    if not samples:
        return "  (no samples: the process was idle)\n"
    busy = samples / (samples + idle)
    lines = [
        f"  {samples} samples working, {idle} waiting in epoll/poll ({busy:.0%} busy)",
        "  self (leaf frame):",
    ]
    lines += [f"    {n / samples:6.1%}  {f}" for f, n in own.most_common(top)]
    lines.append("  by project function (deepest frame of our code in the stack):")
    lines += [f"    {n / samples:6.1%}  {f}" for f, n in deepest.most_common(top)]
    lines.append("  total (project functions anywhere in the stack):")
    ranked = [(f, n) for f, n in total.most_common() if _is_ours(f) and n < 0.95 * samples]
    ranked = [(f, n) for f, n in ranked if not f.startswith(("main ", "<module> "))]
    lines += [f"    {n / samples:6.1%}  {f}" for f, n in ranked[:top]]
    return "\n".join(lines) + "\n"
