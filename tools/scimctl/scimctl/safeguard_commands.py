"""Safeguard commands: previews of a deactivation or a behaviour change, the mass-deactivation guard, the
drift report with repair, and dead-letter replay.

Each takes the admin clients and parsed arguments and returns one JSON-able dict; the shapes are
documented in docs/safeguards.md and kept stable.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from scimsuite.portal.v1 import portal_pb2

from scimctl.clients import Clients, parse_duration
from scimctl.commands import behaviour_dict

PORTALS = ["dashboard", "store", "mdm"]


def _action(a: portal_pb2.PlannedAction) -> dict[str, Any]:
    return {
        "action": a.action,
        "result": a.result,
        "detail": a.detail,
        "summary": a.summary,
        "destructive": a.destructive,
    }


def _user_preview(p: portal_pb2.UserPreview) -> dict[str, Any]:
    return {
        "id": p.user_id,
        "userName": p.user_name,
        "active": p.active,
        "actions": [_action(a) for a in p.actions],
        "note": p.note,
        "held": p.held,
    }


def preview_user(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = portal_pb2.PreviewDeactivationRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal, user=a.user
    )
    return _user_preview(c.portal.PreviewDeactivation(request, metadata=c.md))


def preview_behaviour(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    wanted = portal_pb2.Behaviour(
        workspace_id=c.workspace_id(a.workspace),
        portal=a.portal,
        on_deactivate=a.on_deactivate,
        deactivate_policy=a.policy or "",
    )
    p = c.portal.PreviewBehaviour(
        portal_pb2.PreviewBehaviourRequest(behaviour=wanted, sample_size=a.sample), metadata=c.md
    )
    return {
        "behaviour": behaviour_dict(p.behaviour),
        "active_users": p.active_users,
        "accounts_removed": p.accounts_removed,
        "devices_unassigned": p.devices_unassigned,
        "devices_deleted": p.devices_deleted,
        "devices_repolicied": p.devices_repolicied,
        "sample": [_user_preview(u) for u in p.sample],
    }


def _guard(g: portal_pb2.GuardStatus) -> dict[str, Any]:
    return {
        "workspace_id": g.workspace_id,
        "portal": g.portal,
        "enabled": g.enabled,
        "max_actions": g.max_actions,
        "max_percent": g.max_percent,
        "window_seconds": g.window_seconds,
        "explicit": g.explicit,
        "held": g.held,
        "held_since": g.held_since or None,
        "recent_actions": g.recent_actions,
        "threshold": g.threshold,
        "sample": [
            {
                "id": h.id,
                "userName": h.user_name,
                "action": h.action,
                "summary": h.summary,
                "held_at": h.held_at,
                "reason": h.reason,
            }
            for h in g.sample
        ],
    }


def guard_show(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = portal_pb2.GetGuardRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal, sample_size=a.sample
    )
    return _guard(c.portal.GetGuard(request, metadata=c.md))


def guard_set(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    policy = portal_pb2.GuardPolicy(workspace_id=c.workspace_id(a.workspace), portal=a.portal)
    if a.enabled is not None:
        policy.enabled = a.enabled
    if a.max_actions is not None:
        policy.max_actions = a.max_actions
    if a.max_percent is not None:
        policy.max_percent = a.max_percent
    if a.window is not None:
        policy.window_seconds = a.window
    return _guard(c.portal.SetGuard(portal_pb2.SetGuardRequest(policy=policy), metadata=c.md))


def _decided(r: portal_pb2.DecideHeldResponse) -> dict[str, Any]:
    return {
        "released": r.released,
        "cancelled": r.cancelled,
        "discarded": r.discarded,
        "outcomes": [
            {"userName": o.user_name, "action": o.action, "result": o.result, "detail": o.detail}
            for o in r.outcomes
        ],
    }


def _decide_request(c: Clients, a: argparse.Namespace) -> portal_pb2.DecideHeldRequest:
    return portal_pb2.DecideHeldRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal, actor=a.by or getpass.getuser()
    )


def guard_release(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    return _decided(c.portal.ReleaseHeld(_decide_request(c, a), metadata=c.md))


def guard_discard(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    return _decided(c.portal.DiscardHeld(_decide_request(c, a), metadata=c.md))


def reconcile(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    """The report streams in pages; progress goes to stderr, the result to stdout."""
    request = portal_pb2.ReconcileRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal, repair=a.repair, page_size=a.page_size
    )
    found: list[dict[str, Any]] = []
    last = portal_pb2.ReconcilePage()
    for page in c.portal.Reconcile(request, metadata=c.md):
        last = page
        found += [
            {
                "kind": d.kind,
                "userName": d.user_name,
                "user_id": d.user_id,
                "group": d.group_name or None,
                "expected": d.expected,
                "actual": d.actual,
                "repaired": d.repaired,
            }
            for d in page.differences
        ]
        print(
            f"reconcile: {page.scanned_users}/{page.total_users} users, {len(found)} difference(s)"
            + (", done" if page.done else ""),
            file=sys.stderr,
            flush=True,
        )
    return {
        "workspace_id": request.workspace_id,
        "portal": a.portal,
        "repair": a.repair,
        "scanned_users": last.scanned_users,
        "pending_users": last.pending_users,
        "count": len(found),
        "repaired": sum(1 for d in found if d["repaired"]),
        "differences": found,
    }


def dead_letters_replay(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = portal_pb2.ReplayDeadLettersRequest(event_id=a.event_id or "", all=a.all)
    reply = c.portal.ReplayDeadLetters(request, metadata=c.md)
    return {
        "replayed": [
            {
                "event_id": r.event_id,
                "applied": r.applied,
                "error": r.error or None,
                "actions": list(r.actions),
            }
            for r in reply.replayed
        ]
    }


def _leaf(parent: Any, name: str, fn: object, help_text: str) -> argparse.ArgumentParser:
    sp: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
    sp.set_defaults(fn=fn)
    sp.add_argument("--workspace", "-w", required=True, help="workspace name or id")
    sp.add_argument("--portal", "-p", required=True, choices=PORTALS)
    return sp


def add_dead_letters(top: Any, list_fn: object) -> None:
    """`dead-letters` lists them (as before); `dead-letters replay` applies them again."""
    dl = top.add_parser("dead-letters", help="events that could not be applied")
    dl.set_defaults(fn=list_fn)
    sub = dl.add_subparsers(dest="cmd", required=False)
    sp = sub.add_parser("replay", help="apply dead letters again, one (--event-id) or all (--all)")
    sp.set_defaults(fn=dead_letters_replay)
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--event-id")
    which.add_argument("--all", action="store_true")


def add_commands(top: Any) -> None:
    """`preview`, `guard` and `reconcile` under the top-level parser."""
    pv = top.add_parser("preview", help="what a deactivation would do").add_subparsers(
        dest="cmd", required=True
    )
    sp = _leaf(pv, "user", preview_user, "what deactivating this user now would do (changes nothing)")
    sp.add_argument("--user", "-u", required=True, help="userName or id")
    sp = _leaf(
        pv,
        "behaviour",
        preview_behaviour,
        "what the next deactivation of each active user would do under a behaviour",
    )
    sp.add_argument("--on-deactivate", required=True)
    sp.add_argument("--policy", help="mdm change-policy: the policy devices would move to")
    sp.add_argument("--sample", type=int, default=5, help="active users planned one by one (at most 100)")

    gd = top.add_parser("guard", help="the mass-deactivation guard").add_subparsers(dest="cmd", required=True)
    sp = _leaf(gd, "show", guard_show, "thresholds, whether the connection is held, and what waits")
    sp.add_argument("--sample", type=int, default=20, help="how many held actions to list")
    sp = _leaf(gd, "set", guard_set, "change thresholds (options not given keep their value)")
    onoff = sp.add_mutually_exclusive_group()
    onoff.add_argument("--on", dest="enabled", action="store_const", const=True, default=None)
    onoff.add_argument("--off", dest="enabled", action="store_const", const=False, help="turn the guard off")
    sp.add_argument("--max-actions", type=int, help="hold above this many destructive actions in the window")
    sp.add_argument("--max-percent", type=float, help="... or above this share of active accounts (0-100]")
    sp.add_argument("--window", type=parse_duration, metavar="DURATION", help="sliding window (default 1h)")
    for name, fn, text in (
        ("release", guard_release, "apply the held actions in order, each exactly once"),
        ("discard", guard_discard, "drop the held actions; nothing is applied"),
    ):
        sp = _leaf(gd, name, fn, text)
        sp.add_argument("--by", help="who decides, for the audit (default: your login name)")

    sp = _leaf(top, "reconcile", reconcile, "drift between the directory and the portal (progress on stderr)")
    sp.add_argument("--repair", action="store_true", help="re-apply the directory's state to each difference")
    sp.add_argument("--page-size", type=int, default=1000, help="users per page")
