"""Applying a group event: the group becomes (or stays) a portal object with its members, at once.

Groups exist in the portal as soon as they are pushed, before any member logs in, so they can drive role
mapping, publication filters and access control. Renames and deletes propagate; each membership change is
audited against the user it concerns.
"""

from __future__ import annotations

from typing import Any

from portal_actions.adapters.postgres import Conn, Row, audit, mirror
from portal_actions.domain.events import DirectoryEvent
from portal_actions.service_layer import roles
from portal_actions.service_layer.actions import cause_of
from portal_actions.service_layer.apply_user import behaviour_of
from portal_actions.service_layer.configuration_reads import DIRECT, ConfigurationReads
from portal_actions.service_layer.rehearsal import rehearse


async def apply_group(conn: Conn, event: DirectoryEvent, *, dry_run: bool = False) -> list[str]:
    """With `dry_run`, the group and its memberships still follow (they are portal-actions' copy of the
    directory's groups); the role changes they cause are only rehearsed and audited as `dry-run`."""
    prev = await mirror.lock_group(conn, event.resource_id)
    return await apply_locked_group(conn, event, prev, dry_run=dry_run)


async def apply_locked_group(
    conn: Conn,
    event: DirectoryEvent,
    prev: Row | None,
    *,
    dry_run: bool = False,
    config: ConfigurationReads = DIRECT,
    mirrored: bool = False,
) -> list[str]:
    """`apply_group` once the caller holds the group's lock and has read `prev`, its mirror row; with
    `mirrored`, the caller also saved the event's state to it (`mirror.start_group`)."""
    gid = event.resource_id
    cause = cause_of(event)
    deleted = event.change == "Deleted"
    old_name = prev["display_name"] if prev else None
    name = str((event.state or {}).get("displayName") or old_name or gid)
    done: list[str] = []
    renamed = False
    if prev is None or event.version > prev["version"]:
        if not mirrored:
            await mirror.save_group(conn, **{**group_state(event), "display_name": name})
        renamed = old_name is not None and old_name != name
        action = _group_action(created=prev is None, deleted=deleted, renamed=renamed)
        if action:
            await audit.record(
                conn, cause, action=action, group_name=name, detail=f"{old_name} -> {name}" if renamed else ""
            )
            done.append(action)
    else:
        name = old_name or name  # an older event: the newer name stands
    if deleted:
        removed = await mirror.clear_group(conn, gid, event.version, event.occurred_at)
        added: list[str] = []
        await audit.record_memberships(
            conn, cause, action="remove-from-group", group_name=name, user_ids=removed
        )
    else:
        # Each side's changes and their audit entries in one statement.
        added = await mirror.set_membership(
            conn,
            gid,
            list(event.members_added),
            True,
            event.version,
            event.occurred_at,
            audited=(cause, "add-to-group", name),
        )
        removed = await mirror.set_membership(
            conn,
            gid,
            list(event.members_removed),
            False,
            event.version,
            event.occurred_at,
            audited=(cause, "remove-from-group", name),
        )
    done += [
        f"{label} x{len(ids)}"
        for label, ids in (("add-to-group", added), ("remove-from-group", removed))
        if ids
    ]
    if event.portal == "dashboard" and (added or removed or renamed):
        # A rename can turn an unmapped group into a mapped one, so every member is reconsidered.
        affected = added + removed + (await mirror.member_ids(conn, gid) if renamed else [])
        await mirror.lock_roles(conn, event.connection_id)
        behaviour = await behaviour_of(conn, event, config)

        async def follow() -> list[str]:
            return await roles.follow_roles(conn, event, behaviour, affected)

        done += await (rehearse(conn, event, follow) if dry_run else follow())
    return done


def group_state(event: DirectoryEvent) -> dict[str, Any]:
    """The group's mirror row as this event leaves it (`mirror.save_group`); `display_name` None keeps
    the stored one."""
    name = (event.state or {}).get("displayName")
    return {
        "group_id": event.resource_id,
        "connection_id": event.connection_id,
        "workspace_id": event.workspace_id,
        "portal": event.portal,
        "display_name": str(name) if name else None,
        "deleted": event.change == "Deleted",
        "version": event.version,
    }


def _group_action(*, created: bool, deleted: bool, renamed: bool) -> str:
    if deleted:
        return "group-delete"
    if created:
        return "group-create"
    return "group-rename" if renamed else ""
