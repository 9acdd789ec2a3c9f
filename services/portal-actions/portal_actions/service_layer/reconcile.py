"""Reconciliation: the drift report of one (workspace, portal), page by page, and its repair.

The report walks the connection's users in pages of their id (directory, mirror and portal accounts
together), so it streams and stays flat in memory at 100,000 users; then the membership differences of
the connection's settled groups, found in one set operation.

A repair re-applies the directory's current state to one difference at a time, in its own transaction,
under the same lock the consumer takes for that user or group, after re-reading the difference there:
a difference already gone (repaired twice, or fixed by an event meanwhile) is left alone, and a user or
group with events in flight is not touched, so a newer state is never overwritten by an older one. Each
repair is audited with mode `repair`. A repair never re-runs an effect that happened: a removed account is
not removed again, and devices are unassigned or re-policied, never deleted, by a repair.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from portal_actions.adapters.postgres import (
    Conn,
    accounts,
    audit,
    configuration,
    devices,
    mirror,
    reconcile_reads,
    repairs,
)
from portal_actions.domain import drift
from portal_actions.domain.attribute_mapping import metadata_for
from portal_actions.domain.behaviour import Behaviour, default_behaviour
from portal_actions.domain.drift import Difference, UserState
from portal_actions.service_layer import roles
from portal_actions.service_layer.refs import NotFound, portal_ref, workspace_ref

DEFAULT_PAGE = 1000
MAX_PAGE = 5000
_FIRST_ID = "00000000-0000-0000-0000-000000000000"


@dataclass
class Page:
    differences: list[Difference]
    repaired: list[bool]
    scanned_users: int
    total_users: int
    pending_users: int
    done: bool = False


@dataclass
class _Context:
    workspace_id: str
    portal: str
    connection_id: str
    behaviour: Behaviour
    mappings: list[tuple[str, str]] = field(default_factory=list)


def _state(row: Any, devs: dict[str, list[tuple[str, str]]]) -> UserState:
    name = row["user_name"] or ""
    return UserState(
        user_id=str(row["user_id"]),
        directory_version=row["directory_version"],
        mirror_version=row["mirror_version"],
        user_name=name,
        active=row["active"],
        deleted=row["deleted"],
        state=row["state"],
        account_status=row["account_status"],
        account_user_name=row["account_user_name"],
        account_metadata=row["account_metadata"],
        devices=tuple(devs.get(name.lower(), [])),
    )


class Reconciler:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def _context(self, workspace_id: str, portal: str) -> _Context:
        ws, p = workspace_ref(workspace_id), portal_ref(portal)
        async with self.pool.acquire() as conn:
            connection = await reconcile_reads.connection_id(conn, ws, p)
            if connection is None:
                raise NotFound(f"SCIM was never enabled for this workspace's {p} portal")
            behaviour = await configuration.behaviour(conn, ws, p) or default_behaviour(ws, p)
            rows = await configuration.attribute_mappings(conn, ws, p)
        return _Context(
            ws, p, connection, behaviour, [(r["scim_attribute"], r["metadata_key"]) for r in rows]
        )

    async def run(
        self, workspace_id: str, portal: str, *, repair: bool, page_size: int = DEFAULT_PAGE
    ) -> AsyncIterator[Page]:
        ctx = await self._context(workspace_id, portal)
        size = min(max(page_size or DEFAULT_PAGE, 1), MAX_PAGE)
        async with self.pool.acquire() as conn:
            total = await reconcile_reads.user_count(conn, ctx.connection_id, ctx.workspace_id, ctx.portal)
        after, scanned, pending = _FIRST_ID, 0, 0
        while True:
            async with self.pool.acquire() as conn:
                states = await _users(conn, ctx, after, size)
            if not states:
                break
            scanned += len(states)
            pending += sum(1 for s in states if s.pending)
            found = [d for s in states for d in drift.user_differences(s, ctx.behaviour, ctx.mappings)]
            fixed = await self._repair_users(ctx, found) if repair else [False] * len(found)
            yield Page(found, fixed, scanned, max(total, scanned), pending)
            after = states[-1].user_id
        async with self.pool.acquire() as conn:
            rows = await reconcile_reads.membership_differences(conn, ctx.connection_id)
        members = [_membership(r) for r in rows]
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            fixed = [await self._repair_membership(ctx, d) for d in chunk] if repair else [False] * len(chunk)
            yield Page(chunk, fixed, scanned, max(total, scanned), pending)
        yield Page([], [], scanned, max(total, scanned), pending, done=True)

    async def _repair_users(self, ctx: _Context, found: list[Difference]) -> list[bool]:
        kinds_fixed: dict[str, set[str]] = {}
        for user_id in dict.fromkeys(d.user_id for d in found):
            async with self.pool.acquire() as conn, conn.transaction():
                kinds_fixed[user_id] = await _repair_user(conn, ctx, user_id)
        return [d.kind in kinds_fixed.get(d.user_id, set()) for d in found]

    async def _repair_membership(self, ctx: _Context, d: Difference) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            await mirror.lock_group(conn, d.group_id)
            still = await reconcile_reads.membership_differences(
                conn, ctx.connection_id, d.group_id, d.user_id
            )
            version = await repairs.group_version(conn, d.group_id)
            if not still or version is None:
                return False
            member = d.kind == drift.MEMBERSHIP_MISSING
            await repairs.set_pair(conn, d.group_id, d.user_id, member, version)
            await audit.record(
                conn,
                _cause(ctx, d.kind),
                action="add-to-group" if member else "remove-from-group",
                group_name=d.group_name,
                user_id=d.user_id,
                user_name=d.user_name,
            )
        return True


async def _users(
    conn: Conn, ctx: _Context, after: str, size: int, only: str | None = None
) -> list[UserState]:
    rows = await reconcile_reads.users_page(
        conn, ctx.connection_id, ctx.workspace_id, ctx.portal, after, size, only
    )
    devs: dict[str, list[tuple[str, str]]] = {}
    if ctx.portal == "mdm":
        names = [r["user_name"] for r in rows if r["user_name"] and not (r["active"] and not r["deleted"])]
        for d in await reconcile_reads.devices_of(conn, ctx.workspace_id, names) if names else []:
            devs.setdefault(d["who"], []).append((d["serial"], d["policy"]))
    return [_state(r, devs) for r in rows]


def _membership(r: Any) -> Difference:
    expected = bool(r["expected"])
    return Difference(
        drift.MEMBERSHIP_MISSING if expected else drift.MEMBERSHIP_EXTRA,
        str(r["user_id"]),
        r["user_name"],
        "member" if expected else "not a member",
        "not a member" if expected else "member",
        group_id=str(r["group_id"]),
        group_name=r["display_name"],
    )


def _cause(ctx: _Context, kind: str) -> audit.Cause:
    return audit.Cause(ctx.workspace_id, ctx.portal, f"repair: {kind}", None, None, mode="repair")


async def _repair_user(conn: Conn, ctx: _Context, user_id: str) -> set[str]:
    """Re-read the user under their lock and fix what still differs; returns the kinds fixed."""
    await mirror.lock_user(conn, user_id)
    states = await _users(conn, ctx, _FIRST_ID, 1, only=user_id)
    if not states:
        return set()
    u = states[0]
    fixed: set[str] = set()
    for d in drift.user_differences(u, ctx.behaviour, ctx.mappings):
        if await _fix(conn, ctx, u, d):
            fixed.add(d.kind)
    return fixed


async def _fix(conn: Conn, ctx: _Context, u: UserState, d: Difference) -> bool:
    ws, p, b = ctx.workspace_id, ctx.portal, ctx.behaviour
    cause = _cause(ctx, d.kind)

    async def record(action: str, detail: str = "", result: str = "applied") -> None:
        await audit.record(
            conn, cause, action=action, result=result, detail=detail, user_id=u.user_id, user_name=d.user_name
        )

    if d.kind == drift.MISSING_ACCOUNT:
        now = datetime.now(UTC)
        role: str | None = None
        settles = None
        if p == "dashboard":
            # The consumer's order: the user's lock (held), then the connection's role lock.
            await mirror.lock_roles(conn, ctx.connection_id)
            settles = roles.settles_at(now, b)
            role = await roles.role_for(conn, ws, u.user_id, settles, b.default_role)
        metadata = metadata_for(u.state or {}, ctx.mappings)
        await accounts.activate(
            conn,
            workspace_id=ws,
            portal=p,
            user_id=u.user_id,
            user_name=u.user_name,
            role=role,
            metadata=metadata,
            provisioned_at=now,
            role_settles_at=settles,
        )
        await record(f"create-{b.on_create}", f"role={role}" if role else "")
    elif d.kind in (drift.ACCOUNT_SHOULD_BE_GONE, drift.ACCOUNT_WITHOUT_USER):
        await accounts.remove(conn, ws, p, u.user_id)
        await record("remove", "the account only; a repair never deletes devices")
    elif d.kind in (drift.USERNAME_DIFFERENCE, drift.METADATA_DIFFERENCE):
        await accounts.update_profile(
            conn, ws, p, u.user_id, u.user_name, metadata_for(u.state or {}, ctx.mappings)
        )
        await record("update-profile")
    elif d.kind == drift.DEVICES_STILL_ASSIGNED:
        await devices.unassign_serials(conn, ws, list(d.serials))
        await record("unassign-devices", f"unassigned: {', '.join(d.serials)}")
    elif d.kind == drift.DEVICE_POLICY_DIFFERENCE:
        if not await configuration.policy_exists(conn, ws, b.deactivate_policy):
            await record("change-policy", f"policy {b.deactivate_policy!r} does not exist", "failed")
            return False
        await devices.set_policy_serials(conn, ws, list(d.serials), b.deactivate_policy)
        await record("change-policy", f"moved to {b.deactivate_policy}: {', '.join(d.serials)}")
    else:
        return False
    return True
