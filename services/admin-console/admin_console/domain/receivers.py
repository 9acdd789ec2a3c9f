"""The add-receiver form (docs/security-events.md): push (RFC 8935) to an https endpoint with the
Authorization header the receiver expects, or poll (RFC 8936) with a token shown once. security-events
checks again (https only, the event URIs it knows); this module names a bad field beside it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DELIVERIES = {
    "push": "Push: security-events POSTs each SET to the receiver's endpoint (RFC 8935)",
    "poll": "Poll: the receiver polls the edge with a token shown once (RFC 8936)",
}
ALGS = ("ES256", "RS256")


@dataclass(frozen=True)
class ReceiverChoice:
    delivery: str
    endpoint_url: str
    authorization: str
    audience: str
    events: tuple[str, ...]


def parse_receiver(form: Mapping[str, str]) -> tuple[ReceiverChoice | None, dict[str, str]]:
    errors: dict[str, str] = {}
    delivery = form.get("delivery", "")
    endpoint = form.get("endpoint_url", "").strip()
    if delivery not in DELIVERIES:
        errors["delivery"] = "Choose how the receiver gets the events: push or poll."
    if delivery == "push":
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            errors["endpoint_url"] = "Enter the receiver's endpoint, an https:// URL."
    events = tuple(e for e in form.get("events", "").split() if e)
    bad = next((e for e in events if not e.startswith("urn:")), None)
    if bad is not None:
        errors["events"] = f"{bad!r} is not an event URI (urn:ietf:params:scim:event:…)."
    if errors:
        return None, errors
    return (
        ReceiverChoice(
            delivery=delivery,
            endpoint_url=endpoint if delivery == "push" else "",
            authorization=form.get("authorization", "").strip() if delivery == "push" else "",
            audience=form.get("audience", "").strip(),
            events=events,
        ),
        {},
    )
