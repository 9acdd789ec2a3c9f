"""Attribute mapping: SCIM attributes (core, enterprise, custom URNs) to keys of an account's `metadata`."""

from __future__ import annotations

from typing import Any

# Keys the portals own; mapping a SCIM attribute onto one would let an IdP overwrite account identity.
RESERVED_KEYS = frozenset({"id", "userid", "username", "email", "role", "status", "groups", "devices"})


def split_attribute(path: str) -> tuple[str | None, list[str]]:
    """`urn:...:User:department` → (urn, ["department"]); `name.givenName` → (None, ["name", "givenName"])."""
    urn: str | None = None
    rest = path
    if path.lower().startswith("urn:"):
        urn, _, rest = path.rpartition(":")
    return urn, [p for p in rest.split(".") if p]


def _get(container: Any, key: str) -> Any:
    if not isinstance(container, dict):
        return None
    if key in container:
        return container[key]
    low = key.lower()
    return next((v for k, v in container.items() if k.lower() == low), None)


def resolve(state: dict[str, Any], path: str) -> Any:
    urn, parts = split_attribute(path)
    node: Any = _get(state, urn) if urn else state
    if urn and node is None and parts:
        # A core attribute written with its schema URN prefix (urn:...:core:2.0:User:title).
        node = state
    for part in parts:
        if isinstance(node, list):
            primary = next((v for v in node if isinstance(v, dict) and v.get("primary")), node[0] if node else None)
            node = primary
        node = _get(node, part)
    if isinstance(node, list):
        node = next((v.get("value") for v in node if isinstance(v, dict) and v.get("primary")), node)
    return node


def metadata_for(state: dict[str, Any], mappings: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scim_attribute, key in mappings:
        value = resolve(state, scim_attribute)
        if value is not None:
            out[key] = value
    return out
