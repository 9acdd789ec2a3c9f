"""Attribute projection for responses: `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9).

* `returned: always` attributes (`id`) and `schemas` are always in the response;
  `returned: never` attributes (`password`) never are; `returned: request` ones only when named.
* `attributes` replaces the default set; names may be sub-attributes (`name.givenName`,
  `emails.value`), URN-qualified (`urn:...:enterprise:2.0:User:department`) or a whole extension URN.
* `excludedAttributes` removes from the default set and cannot remove `always` attributes.

Names are case-insensitive (RFC 7643 §2.1). Unknown names are ignored rather than rejected, and a
value filter in a name (`emails[type eq "work"]`, sent by Microsoft's Postman suite) is ignored, so
the whole attribute is selected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from scim_core.normalize import core_attribute
from scim_core.schema.model import Attribute, ResourceSchema
from scim_core.schema.urns import GROUP_URN, USER_URN

_FILTER = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class _Ref:
    """A resolved attribute name, all parts lower-case. `container` is None for the core schema."""

    container: str | None
    attr: str | None
    sub: str | None


def project(
    doc: dict[str, Any],
    resource: ResourceSchema,
    attributes: list[str] | None,
    excluded: list[str] | None,
) -> dict[str, Any]:
    """The response form of `doc` for the given `attributes` / `excludedAttributes` (may be None)."""
    selected = _refs(attributes, resource, doc) if attributes else None
    dropped = _refs(excluded, resource, doc) if excluded else []
    out: dict[str, Any] = {}
    for key, value in doc.items():
        low = key.lower()
        attr = core_attribute(resource, key)
        if low == "schemas":
            kept: Any = value
        elif attr is not None:
            kept = _attribute(None, attr, value, selected, dropped)
        elif resource.extension(key) is not None or low.startswith("urn:"):
            kept = _extension(resource, key, value, selected, dropped)
        else:
            # Not a schema attribute; only a default response passes it through.
            kept = value if selected is None else None
        if kept is not None:
            out[key] = kept
    return out


def needs_members(attributes: list[str] | None, excluded: list[str] | None) -> bool:
    """Whether a Group response includes `members`, so the membership table must be read."""
    return _needed("members", GROUP_URN, attributes, excluded)


def needs_groups(attributes: list[str] | None, excluded: list[str] | None) -> bool:
    """Whether a User response includes `groups`, so the membership table must be read."""
    return _needed("groups", USER_URN, attributes, excluded)


def _needed(name: str, core_urn: str, attributes: list[str] | None, excluded: list[str] | None) -> bool:
    names = (name, f"{core_urn.lower()}:{name}")
    subs = tuple(f"{n}." for n in names)

    def clean(text: str) -> str:
        return _FILTER.sub("", text).strip().lower()

    # A requested sub-attribute (`members.value`) still needs the member rows, while an excluded
    # sub-attribute leaves the attribute itself in the response.
    if attributes and not any(clean(a) in names or clean(a).startswith(subs) for a in attributes):
        return False
    return not any(clean(e) in names for e in excluded or [])


def _attribute(
    container: str | None,
    attr: Attribute,
    value: Any,
    selected: list[_Ref] | None,
    dropped: list[_Ref],
) -> Any:
    """The projected value of one attribute, or None to leave it out."""
    name = attr.name.lower()
    if attr.returned == "never":
        return None
    mine = [r for r in dropped if r.container == container and r.attr == name]
    keep_subs: set[str] | None = None
    if attr.returned != "always":
        if any(r.sub is None for r in mine):
            return None
        if selected is None:
            if attr.returned == "request":
                return None
        elif not any(r.container == container and r.attr is None for r in selected):
            wanted = [r for r in selected if r.container == container and r.attr == name]
            if not wanted:
                return None
            if all(r.sub is not None for r in wanted):
                keep_subs = {r.sub for r in wanted if r.sub is not None}
    drop_subs = {r.sub for r in mine if r.sub is not None}
    return _sub_attributes(attr, value, keep_subs, drop_subs)


def _sub_attributes(attr: Attribute, value: Any, keep: set[str] | None, drop: set[str]) -> Any:
    if not attr.is_complex:
        return value
    if isinstance(value, list):
        items = [_sub_attributes(attr, v, keep, drop) for v in value]
        return [v for v in items if v is not None] or None
    if not isinstance(value, dict):
        return value
    out = {k: v for k, v in value.items() if _keep_sub(attr.sub(k), k.lower(), keep, drop)}
    return out or None


def _keep_sub(sub: Attribute | None, low: str, keep: set[str] | None, drop: set[str]) -> bool:
    returned = sub.returned if sub is not None else "default"
    if returned == "never":
        return False
    if returned == "always":
        return True
    if low in drop:
        return False
    if keep is not None:
        return low in keep
    return returned != "request"


def _extension(
    resource: ResourceSchema,
    key: str,
    value: Any,
    selected: list[_Ref] | None,
    dropped: list[_Ref],
) -> Any:
    """An extension object, declared or not, projected attribute by attribute."""
    container = key.lower()
    if any(r.container == container and r.attr is None for r in dropped):
        return None
    if selected is not None and any(r.container == container and r.attr is None for r in selected):
        selected = None
    if not isinstance(value, dict):
        return value if selected is None else None
    schema = resource.extension(key)
    out: dict[str, Any] = {}
    for name, item in value.items():
        attr = schema.attribute(name) if schema is not None else None
        if attr is not None:
            kept = _attribute(container, attr, item, selected, dropped)
        else:
            kept = _untyped(container, name.lower(), item, selected, dropped)
        if kept is not None:
            out[name] = kept
    return out or None


def _untyped(container: str, name: str, value: Any, selected: list[_Ref] | None, dropped: list[_Ref]) -> Any:
    """An attribute of an undeclared extension: selected or excluded as a whole."""
    if any(r.container == container and r.attr == name and r.sub is None for r in dropped):
        return None
    if selected is None or any(r.container == container and r.attr == name for r in selected):
        return value
    return None


def _refs(names: list[str], resource: ResourceSchema, doc: dict[str, Any]) -> list[_Ref]:
    refs: list[_Ref] = []
    for raw in names:
        ref = _resolve(_FILTER.sub("", raw).strip(), resource, doc)
        if ref is not None:
            refs.append(ref)
    return refs


def _resolve(name: str, resource: ResourceSchema, doc: dict[str, Any]) -> _Ref | None:
    """Resolve one attribute name; None when it names nothing this resource type has."""
    low = name.lower()
    if not low:
        return None
    core = resource.core.id.lower()
    urns = [
        core,
        *(s.id.lower() for s in resource.extensions),
        *(k.lower() for k in doc if k[:4].lower() == "urn:"),
    ]
    for urn in sorted(set(urns), key=len, reverse=True):
        if low == urn:
            return None if urn == core else _Ref(container=urn, attr=None, sub=None)
        if low.startswith(urn + ":"):
            attr, _, sub = low[len(urn) + 1 :].partition(".")
            return _Ref(container=None if urn == core else urn, attr=attr, sub=sub or None)
    attr, _, sub = low.partition(".")
    if core_attribute(resource, attr) is not None:
        return _Ref(container=None, attr=attr, sub=sub or None)
    # Lenient like the PATCH paths: an unqualified extension attribute (`department`) is accepted.
    owner = next((s for s in resource.extensions if s.attribute(attr) is not None), None)
    if owner is None:
        return None
    return _Ref(container=owner.id.lower(), attr=attr, sub=sub or None)
