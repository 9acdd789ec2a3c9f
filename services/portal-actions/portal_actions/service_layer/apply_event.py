"""Applying one directory event to the portals, inside the consumer's transaction.

Each event is applied at most once (its id is recorded in the same transaction) and never over newer
state: user events older than the last applied version are dropped, and membership pairs carry the group
version of their last change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from portal_actions.adapters.postgres import accounts, audit, configuration, devices, mirror, tracking
from portal_actions.domain.attribute_mapping import metadata_for
from portal_actions.domain.behaviour import Behaviour, default_behaviour, highest_role
from portal_actions.domain.events import DirectoryEvent

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    applied: bool
    actions: list[str]


async def apply_event(conn: asyncpg.Connection, event: DirectoryEvent) -> Outcome:
    if not await tracking.first_delivery(conn, event.event_id):
        return Outcome(False, [])
    if event.kind == "User":
        return Outcome(True, await _apply_user(conn, event))
    return Outcome(True, await _apply_group(conn, event))


class _Actions:
    """Collects and audits what one event did."""

    def __init__(self, conn: asyncpg.Connection, event: DirectoryEvent, user_id: str, user_name: str) -> None:
        self.conn, self.event, self.user_id, self.user_name = conn, event, user_id, user_name
        self.done: list[str] = []

    async def record(self, action: str, result: str = "applied", detail: str = "") -> None:
        self.done.append(action)
        await audit.record(
            self.conn, workspace_id=self.event.workspace_id, portal=self.event.portal, user_id=self.user_id,
            user_name=self.user_name, action=action, result=result, reason=self.event.event_type,
            event_id=self.event.event_id, request_id=self.event.request_id, detail=detail,
        )


async def _behaviour(conn: asyncpg.Connection, event: DirectoryEvent) -> Behaviour:
    found = await configuration.behaviour(conn, event.workspace_id, event.portal)
    return found or default_behaviour(event.workspace_id, event.portal)


async def _metadata(conn: asyncpg.Connection, event: DirectoryEvent, state: dict[str, object]) -> dict[str, object]:
    rows = await configuration.attribute_mappings(conn, event.workspace_id, event.portal)
    return metadata_for(state, [(r["scim_attribute"], r["metadata_key"]) for r in rows])


async def _role_for(conn: asyncpg.Connection, event: DirectoryEvent, user_id: str, default: str) -> str:
    names = await mirror.group_names_of(conn, user_id)
    return highest_role(await configuration.mapped_roles(conn, event.workspace_id, names)) or default


async def _apply_user(conn: asyncpg.Connection, event: DirectoryEvent) -> list[str]:
    uid = event.resource_id
    prev = await mirror.lock_user(conn, uid)
    if prev is not None and event.version <= prev["version"]:
        return []  # stale or repeated: a newer state of this user is already applied
    deleted = event.change == "Deleted"
    state = event.state or {}
    user_name = str(state.get("userName") or (prev["user_name"] if prev else uid))
    active = not deleted and bool(state.get("active", True))
    was_active = prev is not None and prev["active"] and not prev["deleted"]
    await mirror.save_user(
        conn, user_id=uid, connection_id=event.connection_id, workspace_id=event.workspace_id, portal=event.portal,
        user_name=user_name, active=active, deleted=deleted, state=event.state, version=event.version,
    )
    if deleted:
        await mirror.clear_user(conn, uid)
    behaviour = await _behaviour(conn, event)
    account = await accounts.get(conn, event.workspace_id, event.portal, uid)
    acts = _Actions(conn, event, uid, user_name)

    if active:
        if account is None or account["status"] == "removed":
            if not was_active:
                await _on_create(conn, event, behaviour, acts, state)
        else:
            metadata = await _metadata(conn, event, state)
            if account["user_name"] != user_name and event.portal == "mdm":
                await devices.rename_user(conn, event.workspace_id, account["user_name"], user_name)
            if account["user_name"] != user_name or account["metadata"] != metadata:
                await accounts.update_profile(conn, event.workspace_id, event.portal, uid, user_name, metadata)
                await acts.record("update-profile")
    elif was_active or deleted:
        await _on_deactivate(conn, event, behaviour, acts, account)
    return acts.done


async def _on_create(
    conn: asyncpg.Connection, event: DirectoryEvent, behaviour: Behaviour, acts: _Actions, state: dict[str, object]
) -> None:
    if behaviour.on_create == "nothing":
        await acts.record("none", detail="on-create is 'nothing'")
        return
    role: str | None = None
    settles = None
    if event.portal == "dashboard":
        role = await _role_for(conn, event, acts.user_id, behaviour.default_role)
        settles = event.occurred_at + timedelta(seconds=behaviour.role_settle_seconds)
    await accounts.activate(
        conn, workspace_id=event.workspace_id, portal=event.portal, user_id=acts.user_id, user_name=acts.user_name,
        role=role, metadata=await _metadata(conn, event, state), provisioned_at=event.occurred_at,
        role_settles_at=settles,
    )
    await acts.record(f"create-{behaviour.on_create}", detail=f"role={role}" if role else "")


async def _on_deactivate(
    conn: asyncpg.Connection, event: DirectoryEvent, behaviour: Behaviour, acts: _Actions,
    account: asyncpg.Record | None,
) -> None:
    action = behaviour.on_deactivate
    ws, name = event.workspace_id, acts.user_name
    if action == "nothing":
        await acts.record("none", detail="on-deactivate is 'nothing'")
        return
    if action == "unassign-devices":
        serials = await devices.unassign_user(conn, ws, name)
        await acts.record("unassign-devices", detail=",".join(serials))
        return
    if action == "change-policy":
        if not await configuration.policy_exists(conn, ws, behaviour.deactivate_policy):
            # Recorded, not raised: a missing policy must not block the events behind this one.
            await acts.record("change-policy", result="failed",
                              detail=f"policy {behaviour.deactivate_policy!r} does not exist")
            return
        serials = await devices.set_policy_for_user(conn, ws, name, behaviour.deactivate_policy)
        await acts.record("change-policy", detail=f"{behaviour.deactivate_policy}: {','.join(serials)}")
        return
    if account is None or account["status"] == "removed":
        await acts.record(action, result="skipped", detail="no active account")
        return
    if action == "remove-user-and-devices":
        serials = await devices.delete_for_user(conn, ws, name)
        await accounts.remove(conn, ws, event.portal, acts.user_id)
        await acts.record(action, detail=",".join(serials))
        return
    if action == "remove-user":
        serials = await devices.unassign_user(conn, ws, name) if event.portal == "mdm" else []
        await accounts.remove(conn, ws, event.portal, acts.user_id)
        await acts.record(action, detail=",".join(serials))
        return
    await accounts.remove(conn, ws, event.portal, acts.user_id)
    await acts.record("remove")


async def _apply_group(conn: asyncpg.Connection, event: DirectoryEvent) -> list[str]:
    gid = event.resource_id
    prev = await mirror.lock_group(conn, gid)
    newer = prev is None or event.version > prev["version"]
    done: list[str] = []
    if newer:
        name = str((event.state or {}).get("displayName") or (prev["display_name"] if prev else gid))
        await mirror.save_group(
            conn, group_id=gid, connection_id=event.connection_id, workspace_id=event.workspace_id,
            portal=event.portal, display_name=name, deleted=event.change == "Deleted", version=event.version,
        )
        done.append(f"group-{event.change.lower()}")
    if event.change == "Deleted":
        changed = await mirror.clear_group(conn, gid, event.version)
    else:
        changed = await mirror.set_membership(conn, gid, list(event.members_added), True, event.version)
        changed += await mirror.set_membership(conn, gid, list(event.members_removed), False, event.version)
    if changed and event.portal == "dashboard":
        done += await _follow_roles(conn, event, changed)
    return done


async def _follow_roles(conn: asyncpg.Connection, event: DirectoryEvent, user_ids: list[str]) -> list[str]:
    """Inside a collaborator's settling window the role follows the highest mapped group; after it, it is fixed."""
    behaviour = await _behaviour(conn, event)
    done: list[str] = []
    for uid in user_ids:
        account = await accounts.get(conn, event.workspace_id, event.portal, uid)
        if account is None or account["status"] != "active" or account["role_settles_at"] is None:
            continue
        if event.occurred_at > account["role_settles_at"]:
            continue
        role = await _role_for(conn, event, uid, behaviour.default_role)
        if role != account["role"]:
            await accounts.set_role(conn, event.workspace_id, event.portal, uid, role)
            acts = _Actions(conn, event, uid, account["user_name"])
            await acts.record("set-role", detail=f"{account['role']} -> {role}")
            done += acts.done
    return done
