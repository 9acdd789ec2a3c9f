"""The directory's event envelope (protos/scimsuite/events/v1), decoded into what SETs are built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scimsuite.events.v1 import events_pb2
from suite_common import jsonutil

_KINDS = {events_pb2.RESOURCE_KIND_USER: "User", events_pb2.RESOURCE_KIND_GROUP: "Group"}
_CHANGES = {
    events_pb2.CHANGE_KIND_CREATED: "Created",
    events_pb2.CHANGE_KIND_UPDATED: "Updated",
    events_pb2.CHANGE_KIND_DELETED: "Deleted",
}


@dataclass(frozen=True)
class DirectoryEvent:
    event_id: str
    workspace_id: str
    connection_id: str
    portal: str
    kind: str  # "User" | "Group"
    change: str  # "Created" | "Updated" | "Deleted"
    resource_id: str
    version: int
    state: dict[str, Any] | None
    members_added: tuple[str, ...]
    members_removed: tuple[str, ...]
    # The SCIM method behind the change ("POST", "PUT", "PATCH", "DELETE"), as the directory records it.
    method: str

    @staticmethod
    def order_key(data: bytes) -> tuple[str, int] | None:
        try:
            env = events_pb2.EventEnvelope.FromString(data)
        except Exception:  # unreadable: ordered on its own, decoding reports why
            return None
        return env.resource_id, env.resource_version

    @staticmethod
    def decode(data: bytes) -> DirectoryEvent:
        env = events_pb2.EventEnvelope.FromString(data)
        return DirectoryEvent(
            event_id=env.event_id,
            workspace_id=env.workspace_id,
            connection_id=env.connection_id,
            portal=env.portal,
            kind=_KINDS[env.resource_kind],
            change=_CHANGES[env.change],
            resource_id=env.resource_id,
            version=env.resource_version,
            state=jsonutil.loads(env.state_json) if env.state_json else None,
            members_added=tuple(env.members_added),
            members_removed=tuple(env.members_removed),
            method=env.request_summary.upper(),
        )
