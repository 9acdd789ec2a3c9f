"""The RFC 9967 event URIs this service emits, and how a receiver's subscription to them is read.

RFC 9967 §2.4: a provisioning event ends in `:full` when it carries `data` and in `:notice` when it carries
`attributes`; delete, activate and deactivate have no payload and no variant. Feed events (§2.3) are not
emitted: a stream here holds every resource of its (workspace, portal) connection from its creation until
its deletion, so a resource never joins or leaves a feed other than by `prov:create` / `prov:delete`
(and §2.4.4 forbids a feed:remove alongside a delete).
"""

from __future__ import annotations

from security_events.errors import InvalidRequest

PREFIX = "urn:ietf:params:scim:event:prov:"
CREATE, PATCH, PUT = "create", "patch", "put"
DELETE = PREFIX + "delete"
ACTIVATE = PREFIX + "activate"
DEACTIVATE = PREFIX + "deactivate"
WITH_VARIANT = (CREATE, PATCH, PUT)
VARIANTS = ("full", "notice")

ALL: tuple[str, ...] = (
    *(f"{PREFIX}{op}:{v}" for op in WITH_VARIANT for v in VARIANTS),
    DELETE,
    ACTIVATE,
    DEACTIVATE,
)
_CANONICAL = {uri.lower(): uri for uri in ALL}


class UnknownEventUri(InvalidRequest):
    """A subscription names an event this service does not emit."""


def with_variant(operation: str, variant: str) -> str:
    return f"{PREFIX}{operation}:{variant}"


def canonical(uri: str) -> str:
    """The URI as RFC 9967 spells it; input is matched case-insensitively (some receivers write `SCIM`)."""
    found = _CANONICAL.get(uri.strip().lower())
    if found is None:
        raise UnknownEventUri(f"unknown event URI {uri!r}; supported: {', '.join(ALL)}")
    return found


def subscription(uris: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Canonical, de-duplicated, in the order of `ALL`; an empty list subscribes to every event.

    Subscribing to both variants of one operation is refused: each change yields one SET per receiver, and
    §2.4 lets an event carry exactly one of `data` and `attributes`.
    """
    chosen = {canonical(u) for u in uris} if uris else {u for u in ALL if not u.endswith(":notice")}
    for op in WITH_VARIANT:
        if with_variant(op, "full") in chosen and with_variant(op, "notice") in chosen:
            raise UnknownEventUri(f"subscribe to either {op}:full or {op}:notice, not both")
    return tuple(u for u in ALL if u in chosen)
