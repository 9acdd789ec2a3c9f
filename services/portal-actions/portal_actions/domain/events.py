"""The directory's event envelope, decoded into what portal-actions needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scim_core.kinds import ResourceKind
from scimsuite.events.v1 import events_pb2
from suite_common import jsonutil


@dataclass(frozen=True)
class DirectoryEvent:
    event_id: str
    event_type: str
    occurred_at: datetime
    workspace_id: str
    connection_id: str
    portal: str
    kind: str  # a ResourceKind
    change: str  # "Created" | "Updated" | "Deleted"
    resource_id: str
    version: int
    state: dict[str, Any] | None
    members_added: tuple[str, ...]
    members_removed: tuple[str, ...]
    request_id: str
    request_summary: str = ""

    @property
    def may_deactivate(self) -> bool:
        """A user event after which the user is inactive or gone: its portal may run on-deactivate."""
        if self.kind != ResourceKind.USER:
            return False
        return self.change == "Deleted" or (self.state or {}).get("active", True) is not True

    @property
    def reason(self) -> str:
        """Why a portal acted, for the audit: the event and the kind of SCIM request behind it."""
        return f"{self.event_type} ({self.request_summary})" if self.request_summary else self.event_type

    @staticmethod
    def order_key(data: bytes) -> tuple[str, int] | None:
        """(resource id, version) of an encoded event, or None if it cannot be read."""
        try:
            env = events_pb2.EventEnvelope.FromString(data)
        except Exception:  # an unreadable event is ordered on its own; applying it reports why
            return None
        return env.resource_id, env.resource_version

    @staticmethod
    def decode(data: bytes) -> DirectoryEvent:
        env = events_pb2.EventEnvelope.FromString(data)
        kind = {events_pb2.RESOURCE_KIND_USER: "User", events_pb2.RESOURCE_KIND_GROUP: "Group"}[
            env.resource_kind
        ]
        change = {
            events_pb2.CHANGE_KIND_CREATED: "Created",
            events_pb2.CHANGE_KIND_UPDATED: "Updated",
            events_pb2.CHANGE_KIND_DELETED: "Deleted",
        }[env.change]
        return DirectoryEvent(
            event_id=env.event_id,
            event_type=env.event_type,
            occurred_at=datetime.fromisoformat(env.occurred_at),
            workspace_id=env.workspace_id,
            connection_id=env.connection_id,
            portal=env.portal,
            kind=kind,
            change=change,
            resource_id=env.resource_id,
            version=env.resource_version,
            state=jsonutil.loads(env.state_json) if env.state_json else None,
            members_added=tuple(env.members_added),
            members_removed=tuple(env.members_removed),
            request_id=env.request_id,
            request_summary=env.request_summary,
        )
