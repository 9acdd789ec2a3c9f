"""What the PortalAdmin API reads: devices, accounts, groups, mappings, audit entries and dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Device:
    serial: str
    user_name: str | None
    policy: str | None


@dataclass(frozen=True)
class Account:
    user_id: str
    user_name: str
    status: str
    role: str | None
    metadata: dict[str, Any]
    group_names: tuple[str, ...]
    devices: tuple[Device, ...] = ()


@dataclass(frozen=True)
class PortalGroup:
    group_id: str
    display_name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class RoleMapping:
    group_name: str
    role: str


@dataclass(frozen=True)
class AttributeMapping:
    scim_attribute: str
    metadata_key: str


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    portal: str
    user_name: str | None
    user_id: str | None
    action: str
    result: str
    reason: str
    event_id: str | None
    request_id: str | None
    detail: str | None
    group_name: str | None
    mode: str


@dataclass(frozen=True)
class DeadLetterEntry:
    event_id: str
    subject: str
    error: str
    deliveries: int
    at: datetime
