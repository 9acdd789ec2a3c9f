"""What the admin API reads and returns: workspaces, SCIM connections and summaries of their resources."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Workspace:
    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Connection:
    """A workspace's SCIM connection to one portal, with the number of tokens that still work."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    portal: str
    enabled: bool
    created_at: datetime
    active_tokens: int
    custom_schemas: tuple[dict[str, Any], ...] = ()
    # The IdP compatibility profile (directory.domain.profiles) and the IdP last recognised, if any.
    profile: str = "auto"
    detected_idp: str | None = None


@dataclass(frozen=True)
class Credentials:
    """A connection and a freshly issued token: the only moment the token is seen in plain text."""

    connection: Connection
    token: str


@dataclass(frozen=True)
class UserSummary:
    id: uuid.UUID
    user_name: str
    external_id: str | None
    active: bool
    version: int
    doc: dict[str, Any]


@dataclass(frozen=True)
class GroupSummary:
    id: uuid.UUID
    display_name: str
    version: int
    member_count: int


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    oldest_age_seconds: float
