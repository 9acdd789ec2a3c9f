"""Domain events, named in the past tense, as the envelope published for every committed change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scimsuite.events.v1 import events_pb2
from suite_common import jsonutil

from directory.domain.tenancy import ConnectionContext

KINDS = {"User": events_pb2.RESOURCE_KIND_USER, "Group": events_pb2.RESOURCE_KIND_GROUP}
CHANGES = {
    "Created": events_pb2.CHANGE_KIND_CREATED,
    "Updated": events_pb2.CHANGE_KIND_UPDATED,
    "Deleted": events_pb2.CHANGE_KIND_DELETED,
}


@dataclass(frozen=True)
class ResourceChanged:
    resource_type: str  # a ResourceKind
    change: str  # "Created" | "Updated" | "Deleted"
    resource_id: str
    version: int
    state: dict[str, Any] | None
    members_added: tuple[str, ...] = ()
    members_removed: tuple[str, ...] = ()
    request_id: str = ""
    request_summary: str = ""
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def event_type(self) -> str:
        return f"{self.resource_type}{self.change}"

    @property
    def stream_key(self) -> str:
        return f"{self.resource_type.lower()}:{self.resource_id}"

    def subject(self, ctx: ConnectionContext) -> str:
        """`<portal>.<resource>`; the relay prefixes it with the configured stream subject prefix."""
        return f"{ctx.portal}.{self.resource_type.lower()}"

    def envelope(self, ctx: ConnectionContext) -> events_pb2.EventEnvelope:
        return events_pb2.EventEnvelope(
            event_id=self.event_id,
            event_type=self.event_type,
            occurred_at=datetime.now(UTC).isoformat(),
            workspace_id=ctx.workspace_id,
            connection_id=ctx.connection_id,
            portal=ctx.portal,
            resource_kind=KINDS[self.resource_type],
            change=CHANGES[self.change],
            resource_id=self.resource_id,
            resource_version=self.version,
            state_json=jsonutil.dumps(self.state) if self.state is not None else b"",
            members_added=list(self.members_added),
            members_removed=list(self.members_removed),
            request_id=self.request_id,
            request_summary=self.request_summary,
        )
