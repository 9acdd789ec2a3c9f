"""Case-insensitive access to JSON object keys (RFC 7643 §2.1: attribute names are case-insensitive)."""

from __future__ import annotations

from typing import Any


def find_key(obj: dict[str, Any], name: str) -> str | None:
    """The key of `obj` that spells `name` in any case, preferring an exact match."""
    if name in obj:
        return name
    low = name.lower()
    return next((k for k in obj if k.lower() == low), None)


def get_ci(obj: dict[str, Any], name: str) -> Any:
    """`obj[name]` matched case-insensitively, or None."""
    key = find_key(obj, name)
    return obj[key] if key is not None else None
