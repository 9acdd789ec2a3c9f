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


async def record(pid: int, seconds: float, out: Path, rate: int = 200) -> bool:
    exe = py_spy()
    if exe is None:
        return False
    proc = await asyncio.create_subprocess_exec(
        exe,
        "record",
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
        "--nonblocking",
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


def summarise(raw: Path, top: int = 12) -> str:
    """Self and inclusive sample shares from a py-spy raw (collapsed stacks) file."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        # py-spy puts the thread name first; skip non-frame entries.
        frames = [f for f in frames if "(" in f]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for f in set(frames):
            total[f] += count
    if not samples:
        return "  (no samples: the process was idle)\n"
    lines = [f"  {samples} samples on CPU", "  self (on-CPU leaf):"]
    lines += [f"    {n / samples:6.1%}  {f}" for f, n in own.most_common(top)]
    lines.append("  total (project code in the stack):")
    ours = [(f, n) for f, n in total.most_common() if any(m in f for m in _OURS) or "services" in f]
    lines += [f"    {n / samples:6.1%}  {f}" for f, n in ours[:top]]
    return "\n".join(lines) + "\n"
