"""Which attributes a change touched, named as RFC 7644 §3.5.2 paths, for `…:notice` events.

RFC 9967 §2.2 `attributes`: the attributes added, revised or removed. A complex single-valued attribute is
reported per sub-attribute (`name.familyName`), a multi-valued one as a whole (`emails`), an extension's
attributes with their schema URN (`urn:…:enterprise:2.0:User:department`). `meta` and `schemas` are not
attributes a client writes, so they are never listed.
"""

from __future__ import annotations

from typing import Any

_NOT_ATTRIBUTES = frozenset({"meta", "schemas"})


def _paths(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if not prefix and key in _NOT_ATTRIBUTES:
            continue
        if key.startswith("urn:") and isinstance(value, dict) and not prefix:
            out.update(_paths(value, f"{key}:"))
        elif isinstance(value, dict):
            for sub, subvalue in value.items():
                out[f"{prefix}{key}.{sub}"] = subvalue
        else:
            out[f"{prefix}{key}"] = value
    return out


def changed_attributes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """Paths whose value differs; with no known `before`, every attribute present in `after`."""
    new = _paths(after)
    old = _paths(before) if before is not None else {}
    changed = {p for p in new if p not in old or old[p] != new[p]}
    changed |= {p for p in old if p not in new}
    return sorted(changed)
