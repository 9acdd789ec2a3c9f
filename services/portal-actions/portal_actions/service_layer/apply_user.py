"""Applying a user event to the portal of its connection: provision, deprovision, or update the profile.

- Activated (a new user, or a reactivation): an account is created per on-create unless one is still
  active (kept by on-deactivate `nothing`), which is then just brought up to date. A reactivated user
  whose account was removed is provisioned again, as a first provisioning: role mapping applies anew.
- Deactivated (`active` false by PATCH or PUT, or a DELETE of an active user): the on-deactivate action.
- Deleted after a deactivation: nothing more; the deactivation behaviour already ran.
- Updated: an active account follows the user's userName and mapped metadata; its role is never touched.
"""

from __future__ import annotations

from typing import Any

from portal_actions.adapters.postgres import Conn, Row, accounts, devices, mirror
from portal_actions.domain.attribute_mapping import metadata_for
from portal_actions.domain.behaviour import Behaviour
from portal_actions.domain.events import DirectoryEvent
from portal_actions.domain.guard import DEFAULT_GUARD, GuardPolicy
from portal_actions.domain.lifecycle import Transition, transition
from portal_actions.service_layer import guard_check, roles
from portal_actions.service_layer.actions import UserActions
from portal_actions.service_layer.configuration_reads import DIRECT, ConfigurationReads
from portal_actions.service_layer.deactivate import deprovision


async def behaviour_of(conn: Conn, event: DirectoryEvent, config: ConfigurationReads = DIRECT) -> Behaviour:
    return await config.behaviour(conn, event.workspace_id, event.portal)


async def _metadata(
    conn: Conn, event: DirectoryEvent, state: dict[str, Any], config: ConfigurationReads
) -> dict[str, Any]:
    return metadata_for(state, list(await config.mappings(conn, event.workspace_id, event.portal)))


def mirror_state(event: DirectoryEvent) -> dict[str, Any]:
    """The user's mirror row as this event leaves it (`mirror.save_user`); `user_name` None: unchanged."""
    deleted = event.change == "Deleted"
    state = event.state or {}
    return {
        "user_id": event.resource_id,
        "connection_id": event.connection_id,
        "workspace_id": event.workspace_id,
        "portal": event.portal,
        "user_name": str(state["userName"]) if state.get("userName") else None,
        "active": not deleted and state.get("active", True) is True,
        "deleted": deleted,
        "state": event.state,
        "version": event.version,
    }


async def apply_user(
    conn: Conn, event: DirectoryEvent, guard_defaults: GuardPolicy = DEFAULT_GUARD
) -> list[str]:
    """`guard_defaults`: the mass-deactivation guard of connections no admin has configured."""
    prev = await mirror.lock_user(conn, event.resource_id)
    return await apply_locked_user(
        conn, event, mirror.Start(True, False, prev), guard_defaults, mirrored=False
    )


async def apply_locked_user(
    conn: Conn,
    event: DirectoryEvent,
    start: mirror.Start,
    guard_defaults: GuardPolicy = DEFAULT_GUARD,
    config: ConfigurationReads = DIRECT,
    *,
    mirrored: bool = True,
) -> list[str]:
    """`apply_user` once the caller holds the user's lock and has read its mirror row (`start.prev`, and
    perhaps the account, locked); with `mirrored`, the caller also saved the event's state to the mirror
    (`mirror.start_user`)."""
    uid = event.resource_id
    prev = start.prev
    if prev is not None and event.version <= prev["version"]:
        return []  # stale or repeated: a newer state of this user is already applied
    row = mirror_state(event)
    deleted, active = row["deleted"], row["active"]
    state = event.state or {}
    user_name = row["user_name"] or (prev["user_name"] if prev else uid)
    row["user_name"] = user_name
    was_active = prev is not None and prev["active"] and not prev["deleted"]
    if not mirrored:
        await mirror.save_user(conn, **row)
    if deleted:
        await mirror.clear_user(conn, uid, event.occurred_at)
    if event.portal == "mdm" and prev is not None and prev["user_name"] != user_name:
        # Devices are assigned by userName: they follow a rename whether or not the user has an account.
        await devices.rename_user(conn, event.workspace_id, prev["user_name"], user_name)
    if event.portal == "dashboard" and active:
        await mirror.lock_roles(conn, event.connection_id)
    behaviour = await behaviour_of(conn, event, config)
    account = (
        start.account
        if start.account_read
        else await accounts.get(conn, event.workspace_id, event.portal, uid)
    )
    acts = UserActions(conn, event, uid, user_name)
    step = transition(was_active=was_active, active=active, deleted=deleted)
    live = account is not None and account["status"] == "active"
    if step is Transition.ACTIVATED and prev is not None:
        await guard_check.cancel_on_reactivation(conn, event, acts)
    if step is Transition.ACTIVATED and not live:
        await _provision(conn, event, behaviour, acts, state, config)
    elif step is Transition.DEACTIVATED:
        await deprovision(conn, event, behaviour, acts, account, guard_defaults)
    elif step is Transition.DELETED_WHILE_INACTIVE:
        await acts.record(
            "none", detail="deleted after its deactivation; the deactivation behaviour already ran"
        )
    elif live:
        assert account is not None
        await _update_profile(
            conn, event, acts, account, state, config, reactivated=step is Transition.ACTIVATED
        )
    return acts.done


async def _provision(
    conn: Conn,
    event: DirectoryEvent,
    behaviour: Behaviour,
    acts: UserActions,
    state: dict[str, Any],
    config: ConfigurationReads,
) -> None:
    if behaviour.on_create == "nothing":
        await acts.record("none", detail="on-create is 'nothing'")
        return
    role: str | None = None
    settles = None
    if event.portal == "dashboard":
        settles = roles.settles_at(event.occurred_at, behaviour)
        role = await roles.role_for(conn, event.workspace_id, acts.user_id, settles, behaviour.default_role)
    await accounts.activate(
        conn,
        workspace_id=event.workspace_id,
        portal=event.portal,
        user_id=acts.user_id,
        user_name=acts.user_name,
        role=role,
        metadata=await _metadata(conn, event, state, config),
        provisioned_at=event.occurred_at,
        role_settles_at=settles,
    )
    await acts.record(f"create-{behaviour.on_create}", detail=f"role={role}" if role else "")


async def _update_profile(
    conn: Conn,
    event: DirectoryEvent,
    acts: UserActions,
    account: Row,
    state: dict[str, Any],
    config: ConfigurationReads,
    *,
    reactivated: bool,
) -> None:
    metadata = await _metadata(conn, event, state, config)
    if account["user_name"] != acts.user_name or account["metadata"] != metadata:
        await accounts.update_profile(
            conn, event.workspace_id, event.portal, acts.user_id, acts.user_name, metadata
        )
        await acts.record("update-profile")
    if reactivated:
        await acts.record("none", detail="reactivated; the account was kept while deactivated")
