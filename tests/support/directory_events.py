"""Directory event envelopes as the outbox relay publishes them, for tests that feed a consumer directly."""

from __future__ import annotations

import json
import uuid

from scimsuite.events.v1 import events_pb2


def user_event(
    workspace: str, user: str, version: int, *, active: bool = True, title: str = ""
) -> events_pb2.EventEnvelope:
    """A Store user's change: version 1 is its POST (created), later versions PATCHes."""
    state = {"id": user, "userName": f"{user}@x", "active": active, "meta": {"version": f'W/"{version}"'}}
    if title:
        state["title"] = title
    return events_pb2.EventEnvelope(
        event_id=str(uuid.uuid4()),
        workspace_id=workspace,
        connection_id=str(uuid.uuid4()),
        portal="store",
        resource_kind=events_pb2.RESOURCE_KIND_USER,
        change=events_pb2.CHANGE_KIND_CREATED if version == 1 else events_pb2.CHANGE_KIND_UPDATED,
        resource_id=user,
        resource_version=version,
        state_json=json.dumps(state).encode(),
        request_summary="POST" if version == 1 else "PATCH",
    )
