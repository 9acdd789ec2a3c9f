"""The claims of one SET (RFC 8417 §2.2) for one directory change and one receiver (RFC 9967 §2).

One change yields at most one SET per receiver: every subscribed event that applies to it goes into the
same `events` claim, which RFC 9967 §2.1 reads as "these events arise from one transaction". `txn` is the
directory's event id, which is unique per committed change, so a receiver drops a repeat by `txn`; `jti`
is unique per SET. The subject is `sub_id` with format "scim" (§2.1), never `sub`.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from security_events.domain import event_uris as uris
from security_events.domain.changes import changed_attributes
from security_events.domain.directory_event import DirectoryEvent

ENDPOINTS = {"User": "Users", "Group": "Groups"}


@dataclass(frozen=True)
class Audience:
    """Who a SET is for and from: the issuer is the connection's SCIM base URL."""

    issuer: str
    audience: str
    subscribed: tuple[str, ...]


def _operation(event: DirectoryEvent) -> str:
    if event.change == "Created":
        return uris.CREATE
    # Only a PUT replaces; anything else that modified a resource in place is reported as a PATCH.
    return uris.PUT if event.method == "PUT" else uris.PATCH


def _active(state: dict[str, Any]) -> bool:
    """A user is active unless it says otherwise (the directory's default)."""
    return state.get("active") is not False


def full_representation(state: dict[str, Any], kind: str, base_url: str) -> dict[str, Any]:
    """The resource as GET returns it (meta.location and `$ref` links added), from the committed state.

    The envelope's state is the directory's representation after the change, so the SET shows exactly the
    version it names, with no read-back that could see a later one. It has no computed back-references
    (a user's `groups`) and a group's state has no `members`: those are what GET with
    `excludedAttributes=groups` / `members` returns; membership changes are in the notice's `attributes`.
    """
    doc = copy.deepcopy(state)
    meta = doc.setdefault("meta", {})
    meta["location"] = f"{base_url}/{ENDPOINTS[kind]}/{doc.get('id', '')}"
    enterprise = doc.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    manager = enterprise.get("manager") if isinstance(enterprise, dict) else None
    if isinstance(manager, dict) and manager.get("value"):
        manager["$ref"] = f"{base_url}/Users/{manager['value']}"
    return doc


def events_claim(
    event: DirectoryEvent, before: dict[str, Any] | None, subscribed: tuple[str, ...], base_url: str
) -> dict[str, dict[str, Any]]:
    """The subscribed events this change amounts to (RFC 9967 §2.4); empty if none applies."""
    out: dict[str, dict[str, Any]] = {}
    if event.change == "Deleted":
        if uris.DELETE in subscribed:
            out[uris.DELETE] = {}
        return out
    assert event.state is not None
    op = _operation(event)
    version = str(event.state.get("meta", {}).get("version") or f'W/"{event.version}"')
    full, notice = uris.with_variant(op, "full"), uris.with_variant(op, "notice")
    if full in subscribed:
        out[full] = {"version": version, "data": full_representation(event.state, event.kind, base_url)}
    elif notice in subscribed:
        attributes = changed_attributes(None if op == uris.CREATE else before, event.state)
        if event.members_added or event.members_removed:
            attributes = sorted({*attributes, "members"})
        out[notice] = {"version": version, "attributes": attributes}
    if event.kind == "User":
        out.update(_activation(op, before, event.state, subscribed))
    return out


def _activation(
    op: str, before: dict[str, Any] | None, after: dict[str, Any], subscribed: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """§2.4.5/§2.4.6: a created user is activated (or created deactivated); later, only a flip counts.

    With no earlier state seen (the resource predates this service) a change is not called a flip.
    """
    now = _active(after)
    if op == uris.CREATE:
        flipped = True
    elif before is None:
        flipped = False
    else:
        flipped = _active(before) != now
    uri = uris.ACTIVATE if now else uris.DEACTIVATE
    return {uri: {}} if flipped and uri in subscribed else {}


def subject(event: DirectoryEvent, before: dict[str, Any] | None) -> dict[str, Any]:
    """`sub_id` (RFC 9967 §2.1): the relative `uri`, `id` for older receivers, `externalId` if known."""
    sub: dict[str, Any] = {
        "format": "scim",
        "uri": f"/{ENDPOINTS[event.kind]}/{event.resource_id}",
        "id": event.resource_id,
    }
    external = (event.state or before or {}).get("externalId")
    if external:
        sub["externalId"] = external
    return sub


def set_claims(
    event: DirectoryEvent,
    before: dict[str, Any] | None,
    audience: Audience,
    base_url: str,
    issued_at: int,
) -> dict[str, Any] | None:
    """The SET's claims, or None when the receiver subscribed to nothing this change amounts to."""
    events = events_claim(event, before, audience.subscribed, base_url)
    if not events:
        return None
    return {
        "iss": audience.issuer,
        "aud": audience.audience,
        "iat": issued_at,
        "jti": uuid.uuid4().hex,
        "txn": event.event_id,
        "sub_id": subject(event, before),
        "events": events,
    }
