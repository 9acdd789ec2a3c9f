"""Dashboard roles from group mapping, and the settling window after a user's first provisioning.

The rule: a collaborator's role is the highest role mapped to any of their groups (Admin > Developer/Editor
> Viewer > Unassigned), or the default role when none of their groups is mapped. It is computed when the
account is provisioned, and recomputed, up or down, on every membership change whose directory time
(`occurred_at`) falls within `role_settle_seconds` after the provisioning event. After the window the role is
fixed: later group changes never override it. Memberships count only if their last change happened by the
end of the window, so the outcome does not depend on the order in which the consumer applies events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from portal_actions.adapters.postgres import Conn, accounts, audit, configuration, mirror
from portal_actions.domain.behaviour import Behaviour, highest_role
from portal_actions.domain.events import DirectoryEvent
from portal_actions.service_layer.actions import cause_of


def settles_at(provisioned_at: datetime, behaviour: Behaviour) -> datetime:
    return provisioned_at + timedelta(seconds=behaviour.role_settle_seconds)


async def role_for(conn: Conn, workspace_id: str, user_id: str, until: datetime, default: str) -> str:
    names = await mirror.group_names_of(conn, user_id, changed_until=until)
    return highest_role(await configuration.mapped_roles(conn, workspace_id, names)) or default


async def follow_roles(
    conn: Conn, event: DirectoryEvent, behaviour: Behaviour, user_ids: list[str]
) -> list[str]:
    """Recompute the roles of the collaborators among `user_ids` whose window is open at the event's time.

    The caller holds the connection's role lock, taken after its membership writes.
    """
    done: list[str] = []
    rows = await accounts.settling(
        conn, event.workspace_id, event.portal, sorted(set(user_ids)), event.occurred_at
    )
    for row in rows:
        uid = str(row["user_id"])
        role = await role_for(conn, event.workspace_id, uid, row["role_settles_at"], behaviour.default_role)
        if role == row["role"]:
            continue
        await accounts.set_role(conn, event.workspace_id, event.portal, uid, role)
        await audit.record(
            conn,
            cause_of(event),
            action="set-role",
            detail=f"{row['role']} -> {role} (within the settling window)",
            user_id=uid,
            user_name=row["user_name"],
        )
        done.append("set-role")
    return done
