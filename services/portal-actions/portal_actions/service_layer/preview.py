"""Previews: what deactivating a user would do now, and what a behaviour change would do to the next
deactivation of each active user. Nothing is changed; the plan is the one the consumer would execute
(`domain.deactivation_plan`), computed from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import asyncpg

from portal_actions.adapters.postgres import Conn, configuration, holds, population
from portal_actions.domain.behaviour import Behaviour, InvalidBehaviour, default_behaviour
from portal_actions.domain.deactivation_plan import DeactivationStep
from portal_actions.service_layer.deactivate import plan_for
from portal_actions.service_layer.refs import NotFound, portal_ref, workspace_ref

DEFAULT_SAMPLE = 5
MAX_SAMPLE = 100


@dataclass(frozen=True)
class UserPreview:
    user_id: str
    user_name: str
    active: bool
    steps: list[DeactivationStep]
    # Why a deactivation would do nothing, or that the guard would hold it rather than apply it.
    note: str = ""
    held: bool = False


@dataclass(frozen=True)
class BehaviourPreview:
    behaviour: Behaviour
    active_users: int
    accounts_removed: int
    devices_unassigned: int
    devices_deleted: int
    devices_repolicied: int
    sample: list[UserPreview] = field(default_factory=list)


async def _behaviour(conn: Conn, ws: str, portal: str) -> Behaviour:
    found = await configuration.behaviour(conn, ws, portal)
    return found or default_behaviour(ws, portal)


class Previews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def deactivation(self, workspace_id: str, portal: str, user: str) -> UserPreview:
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        if not user.strip():
            raise InvalidBehaviour("name a user by userName or id")
        async with self.pool.acquire() as conn:
            row = await population.find_user(conn, ws, p, user)
            if row is None:
                raise NotFound(f"no user {user!r} in this workspace's {p} connection")
            uid, name = str(row["user_id"]), row["user_name"]
            if row["deleted"] or not row["active"]:
                state = "deleted" if row["deleted"] else "deactivated"
                note = f"the user is already {state}; the on-deactivate behaviour already ran"
                return UserPreview(uid, name, False, [], note)
            behaviour = await _behaviour(conn, ws, p)
            account = await conn.fetchrow(
                "SELECT status, role FROM portal.accounts WHERE workspace_id = $1 AND portal = $2 "
                "AND user_id = $3",
                ws,
                p,
                uid,
            )
            step = await plan_for(conn, behaviour, account, name, lock=False)
            held = step.destructive and await holds.any_held(conn, ws, p)
        note = "the guard holds this connection's destructive actions: this one would wait for a release"
        return UserPreview(uid, name, True, [step], note if held else "", held)

    async def behaviour_change(self, wanted: Behaviour, sample: int) -> BehaviourPreview:
        """Options left empty in `wanted` keep the connection's current value."""
        ws, p = workspace_ref(wanted.workspace_id), portal_ref(wanted.portal)
        size = min(max(sample or DEFAULT_SAMPLE, 1), MAX_SAMPLE)
        async with self.pool.acquire() as conn:
            current = await _behaviour(conn, ws, p)
            b = replace(
                current,
                on_create=wanted.on_create.strip().lower() or current.on_create,
                on_deactivate=wanted.on_deactivate.strip().lower() or current.on_deactivate,
                deactivate_policy=wanted.deactivate_policy.strip() or current.deactivate_policy,
            ).validate()
            if b.on_deactivate == "change-policy" and not await configuration.policy_exists(
                conn, b.workspace_id, b.deactivate_policy
            ):
                raise NotFound(f"policy {b.deactivate_policy!r} does not exist")
            totals = await population.active_totals(conn, b.workspace_id, b.portal)
            users = await population.active_sample(conn, b.workspace_id, b.portal, size)
            previews = []
            for u in users:
                account = {"status": u["status"], "role": u["role"]} if u["status"] else None
                step = await plan_for(conn, b, account, u["user_name"], lock=False)
                previews.append(UserPreview(str(u["user_id"]), u["user_name"], True, [step]))
        removes = b.on_deactivate in ("remove", "remove-user", "remove-user-and-devices")
        devices = int(totals["devices"]) if b.portal == "mdm" else 0
        return BehaviourPreview(
            behaviour=b,
            active_users=int(totals["users"]),
            accounts_removed=int(totals["accounts"]) if removes else 0,
            devices_unassigned=devices if b.on_deactivate in ("unassign-devices", "remove-user") else 0,
            devices_deleted=devices if b.on_deactivate == "remove-user-and-devices" else 0,
            devices_repolicied=devices if b.on_deactivate == "change-policy" else 0,
            sample=previews,
        )
