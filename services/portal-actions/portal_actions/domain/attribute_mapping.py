"""Attribute mapping: SCIM attributes (core, enterprise, custom URNs) to keys of an account's `metadata`.

A path is `attr`, `attr.sub`, or a schema URN followed by `:attr[.sub]` (RFC 7644 §3.10). Names and URNs
match case-insensitively (RFC 7643 §2.1). A multi-valued attribute resolves to its primary element.
"""

from __future__ import annotations

from typing import Any

CORE_USER_URN = "urn:ietf:params:scim:schemas:core:2.0:user"

# Keys the portals own; mapping a SCIM attribute onto one would let an IdP overwrite account identity.
RESERVED_KEYS = frozenset({"id", "userid", "username", "email", "role", "status", "groups", "devices"})
# Never copied into metadata: the write-only credential, and the read-only group list (groups are portal
# objects of their own).
UNMAPPABLE = frozenset({"password", "groups"})


class InvalidMapping(ValueError):
    """A mapping that cannot be stored: a reserved key, an empty key, or an unmappable attribute."""


def split_attribute(path: str) -> tuple[str | None, list[str]]:
    """`urn:...:User:department` → (urn, ["department"]); `name.givenName` → (None, ["name", "givenName"])."""
    urn: str | None = None
    rest = path
    if path.lower().startswith("urn:"):
        urn, _, rest = path.rpartition(":")
    return urn, [p for p in rest.split(".") if p]


def check_mapping(scim_attribute: str, metadata_key: str) -> tuple[str, str]:
    """The trimmed mapping, or InvalidMapping saying why it cannot be stored."""
    attribute, key = scim_attribute.strip(), metadata_key.strip()
    if not key:
        raise InvalidMapping("the metadata key must not be empty")
    if key.lower() in RESERVED_KEYS:
        raise InvalidMapping(
            f"metadata key {key!r} is reserved; reserved keys: {', '.join(sorted(RESERVED_KEYS))}"
        )
    urn, parts = split_attribute(attribute)
    if not parts:
        raise InvalidMapping(f"{scim_attribute!r} is not a SCIM attribute path")
    in_core = urn is None or urn.lower() == CORE_USER_URN
    if in_core and parts[0].lower() in UNMAPPABLE:
        raise InvalidMapping(f"{scim_attribute!r} cannot be mapped")
    return attribute, key


def _get(container: Any, key: str) -> Any:
    if not isinstance(container, dict):
        return None
    if key in container:
        return container[key]
    low = key.lower()
    return next((v for k, v in container.items() if k.lower() == low), None)


def _primary(values: list[Any]) -> Any:
    return next(
        (v for v in values if isinstance(v, dict) and v.get("primary")), values[0] if values else None
    )


def resolve(state: dict[str, Any], path: str) -> Any:
    """The value at `path` in a SCIM User, or None when it is absent."""
    urn, parts = split_attribute(path)
    node: Any = state
    if urn is not None and urn.lower() != CORE_USER_URN:
        node = _get(state, urn)
    for part in parts:
        if isinstance(node, list):
            node = _primary(node)
        node = _get(node, part)
    if isinstance(node, list):
        first = _primary(node)
        node = first.get("value") if isinstance(first, dict) else first
    return node


def metadata_for(state: dict[str, Any], mappings: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scim_attribute, key in mappings:
        value = resolve(state, scim_attribute)
        if value is not None:
            out[key] = value
    return out
