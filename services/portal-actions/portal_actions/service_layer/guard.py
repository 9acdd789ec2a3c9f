"""The mass-deactivation guard: hold a connection's destructive actions above its threshold
(`service_layer.guard_check`, in the consumer), then release or discard them on an admin's word.

Release applies each held action in arrival order, in its own transaction that also deletes it, so each is
applied exactly once even across a crash or two admins releasing at once. It plans from the state at
release time, under the user's lock, so a newer directory state is never overwritten by an older one:
a user who came back meanwhile is not removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from portal_actions.adapters.postgres import Conn, accounts, audit, configuration, holds, mirror
from portal_actions.domain.behaviour import Behaviour, InvalidBehaviour, default_behaviour
from portal_actions.domain.guard import GuardPolicy
from portal_actions.service_layer.deactivate import execute, plan_for
from portal_actions.service_layer.refs import portal_ref, workspace_ref

SAMPLE = 20
MAX_SAMPLE = 1000
_PAGE = 500


@dataclass(frozen=True)
class GuardStatus:
    workspace_id: str
    portal: str
    policy: GuardPolicy
    explicit: bool  # set by an admin, rather than the service default
    held: int
    held_since: datetime | None
    recent_actions: int
    threshold: int
    sample: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    user_name: str
    action: str
    result: str
    detail: str


@dataclass
class Decision:
    released: int = 0
    cancelled: int = 0
    discarded: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


class Guard:
    def __init__(self, pool: asyncpg.Pool, defaults: GuardPolicy) -> None:
        self.pool = pool
        self.defaults = defaults

    async def status(self, workspace_id: str, portal: str, sample: int = SAMPLE) -> GuardStatus:
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        async with self.pool.acquire() as conn:
            stored = await holds.policy(conn, ws, p)
            policy = stored or self.defaults
            s = await holds.summary(conn, ws, p)
            rows = await holds.sample(conn, ws, p, min(max(sample, 0) or SAMPLE, MAX_SAMPLE))
            recent = await holds.recent_count(conn, ws, p, policy.window_seconds)
            active = await holds.active_accounts(conn, ws, p)
        return GuardStatus(
            ws, p, policy, stored is not None, s["held"], s["since"], recent, policy.threshold(active), rows
        )

    async def set_policy(
        self,
        workspace_id: str,
        portal: str,
        *,
        enabled: bool | None,
        max_actions: int | None,
        max_percent: float | None,
        window_seconds: int | None,
    ) -> GuardStatus:
        """Options not given keep their current value; a rejected setting leaves the old one in force."""
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        async with self.pool.acquire() as conn, conn.transaction():
            current = await holds.policy(conn, ws, p) or self.defaults
            wanted = GuardPolicy(
                enabled=current.enabled if enabled is None else enabled,
                max_actions=current.max_actions if max_actions is None else max_actions,
                max_percent=current.max_percent if max_percent is None else max_percent,
                window_seconds=current.window_seconds if window_seconds is None else window_seconds,
            ).validate()
            await holds.save_policy(conn, ws, p, wanted)
        return await self.status(ws, p)

    async def release(self, workspace_id: str, portal: str, actor: str) -> Decision:
        ws, p, who = workspace_ref(workspace_id), portal_ref(portal), _actor(actor)
        decision = Decision()
        async with self.pool.acquire() as conn:
            last_id = (await holds.summary(conn, ws, p))["last_id"]
            after = 0
            while page := await holds.ids_up_to(conn, ws, p, after, last_id, _PAGE):
                for row in page:
                    async with conn.transaction():
                        await _release_one(conn, ws, p, row["id"], str(row["user_id"]), who, decision)
                after = page[-1]["id"]
            async with conn.transaction():
                await holds.reset_window(conn, ws, p)
        return decision

    async def discard(self, workspace_id: str, portal: str, actor: str) -> Decision:
        ws, p, who = workspace_ref(workspace_id), portal_ref(portal), _actor(actor)
        decision = Decision()
        async with self.pool.acquire() as conn, conn.transaction():
            last_id = (await holds.summary(conn, ws, p))["last_id"]
            for row in await holds.discard_up_to(conn, ws, p, last_id):
                detail = f"{row['planned_action']} discarded by {who}: {row['planned_summary']}"
                await audit.record(
                    conn,
                    _cause(ws, p, row, f"discarded by {who}", "live"),
                    action="hold-discarded",
                    detail=detail,
                    user_id=str(row["user_id"]),
                    user_name=row["user_name"],
                )
                decision.discarded += 1
                decision.outcomes.append(Outcome(row["user_name"], "hold-discarded", "applied", detail))
            await holds.reset_window(conn, ws, p)
        return decision


def _actor(actor: str) -> str:
    if not actor.strip():
        raise InvalidBehaviour("say who decides (the admin's name), for the audit")
    return actor.strip()


def _cause(ws: str, portal: str, held: Any, verb: str, mode: str) -> audit.Cause:
    return audit.Cause(
        workspace_id=ws,
        portal=portal,
        reason=f"{verb}; held {held['reason']}",
        event_id=str(held["event_id"]),
        request_id=held["request_id"],
        mode=mode,
    )


async def _behaviour(conn: Conn, ws: str, portal: str) -> Behaviour:
    return await configuration.behaviour(conn, ws, portal) or default_behaviour(ws, portal)


async def _release_one(
    conn: Conn, ws: str, portal: str, held_id: int, user_id: str, who: str, decision: Decision
) -> None:
    # The user's lock first, as the consumer takes it, then the held row: no lock-order inversion with a
    # reactivation that cancels this very row.
    user = await mirror.lock_user(conn, user_id)
    held = await holds.take(conn, held_id)
    if held is None:
        return
    name = user["user_name"] if user is not None else held["user_name"]
    if user is not None and user["active"] and not user["deleted"]:
        # Reactivated after the hold without cancelling it (cannot happen through the consumer, which
        # cancels in the reactivation's transaction); the newer, active state wins.
        await audit.record(
            conn,
            _cause(ws, portal, held, f"released by {who}", "released"),
            action="hold-cancelled",
            detail="the user is active again",
            user_id=user_id,
            user_name=name,
        )
        decision.cancelled += 1
        decision.outcomes.append(Outcome(name, "hold-cancelled", "applied", "the user is active again"))
        return
    behaviour = await _behaviour(conn, ws, portal)
    account = await accounts.get(conn, ws, portal, user_id)
    step = await plan_for(conn, behaviour, account, name, lock=True)
    await execute(conn, ws, portal, user_id, step)
    await audit.record(
        conn,
        _cause(ws, portal, held, f"released by {who}", "released"),
        action=step.action,
        result=step.result,
        detail=step.detail,
        user_id=user_id,
        user_name=name,
    )
    decision.released += 1
    decision.outcomes.append(Outcome(name, step.action, step.result, step.detail))
