"""`--dry-run on|off` of `scim enable` and `scim configure`: a connection in dry run records what it would
apply in the audit and applies nothing; leaving it takes `--on-leave reconcile|start-fresh`."""

from __future__ import annotations

import argparse
from typing import Any

from scimsuite.portal.v1 import portal_pb2

from scimctl.clients import Clients


def add_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--dry-run", choices=["on", "off"], help="record would-be actions only, apply nothing")
    sp.add_argument(
        "--on-leave",
        choices=["reconcile", "start-fresh"],
        help="with --dry-run off: apply the directory's current state now, or go on from the next event",
    )


def status_dict(s: portal_pb2.DryRunStatus) -> dict[str, Any]:
    out: dict[str, Any] = {"enabled": s.dry_run, "since": s.since or None}
    if s.differences or s.repaired:
        out["differences"] = s.differences
        out["repaired"] = s.repaired
    return out


def apply(c: Clients, a: argparse.Namespace, ws_id: str) -> dict[str, Any]:
    """Set the mode if asked, and return it."""
    if a.dry_run is None:
        reply = c.portal.GetDryRun(
            portal_pb2.GetDryRunRequest(workspace_id=ws_id, portal=a.portal), metadata=c.md
        )
        return status_dict(reply)
    request = portal_pb2.SetDryRunRequest(
        workspace_id=ws_id, portal=a.portal, dry_run=a.dry_run == "on", on_leave=a.on_leave or ""
    )
    return status_dict(c.portal.SetDryRun(request, metadata=c.md))
