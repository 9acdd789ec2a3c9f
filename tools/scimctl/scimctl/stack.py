"""Finding the admin APIs: explicit environment first, then the state file a local `make run` writes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = Path(".run") / "stack.json"


@dataclass(frozen=True)
class Stack:
    directory_addr: str
    portal_addr: str
    admin_token: str
    # Optional: `scimctl streams …` needs it (SECURITY_EVENTS_ADDR or `make run`'s state file).
    security_events_addr: str = ""


def _find_state_file(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / STATE_FILE).exists():
            return folder / STATE_FILE
    # An editable install lives inside the checkout: look beside the package too.
    beside = Path(__file__).resolve().parents[3] / STATE_FILE
    return beside if beside.exists() else None


def locate(env: Mapping[str, str], cwd: Path) -> Stack:
    state: dict[str, str] = {}
    path = Path(env["SCIMCTL_STATE"]) if env.get("SCIMCTL_STATE") else _find_state_file(cwd)
    if path and path.exists():
        state = json.loads(path.read_text())
    directory = env.get("DIRECTORY_ADDR") or state.get("directory_addr")
    portal = env.get("PORTAL_ADDR") or state.get("portal_addr")
    token = env.get("ADMIN_TOKEN") or state.get("admin_token")
    if not directory or not portal or not token:
        raise SystemExit(
            "scimctl: no running stack found. Start one with `make run`, or set DIRECTORY_ADDR, PORTAL_ADDR "
            "and ADMIN_TOKEN."
        )
    events = env.get("SECURITY_EVENTS_ADDR") or state.get("security_events_addr") or ""
    return Stack(directory, portal, token, events)
