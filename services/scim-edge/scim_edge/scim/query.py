"""Query parameters of RFC 7644 §3.4.2 (and the same fields of a §3.4.3 SearchRequest body)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scim_core import errors


@dataclass(frozen=True)
class ListQuery:
    filter: str
    sort_by: str
    descending: bool
    start_index: int
    count: int
    attributes: tuple[str, ...]
    excluded: tuple[str, ...]
    # RFC 9865 §2: None pages by index; "" asks for the first cursor page; else a nextCursor/previousCursor.
    cursor: str | None = None


def _csv(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(s.strip() for s in items if isinstance(s, str) and s.strip())


# The directory API carries these as int64; anything beyond this bound means "past the end" (or "none")
# anyway, and clamping keeps an absurd value from overflowing the RPC field with a 500.
_INT_BOUND = 2**62


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise errors.InvalidValue(f"{name} must be an integer") from exc
    return max(-_INT_BOUND, min(number, _INT_BOUND))


def _lookup(params: Mapping[str, Any], name: str) -> Any:
    """Parameter names are matched case-insensitively; Microsoft's tools vary the case."""
    if name in params:
        return params[name]
    low = name.lower()
    return next((v for k, v in params.items() if k.lower() == low), None)


def parse_list_query(params: Mapping[str, Any], *, default_count: int, max_results: int) -> ListQuery:
    order = str(_lookup(params, "sortOrder") or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise errors.InvalidValue("sortOrder must be 'ascending' or 'descending'")
    # RFC 7644 §3.4.2.4: startIndex < 1 is read as 1; a negative count as 0; count above maxResults is capped.
    start = max(_int(_lookup(params, "startIndex"), "startIndex", 1), 1)
    cursor = _lookup(params, "cursor")
    if cursor is not None and _lookup(params, "startIndex") not in (None, ""):
        raise errors.InvalidValue("send either cursor (RFC 9865) or startIndex (RFC 7644 §3.4.2.4), not both")
    count = min(max(_int(_lookup(params, "count"), "count", default_count), 0), max_results)
    return ListQuery(
        filter=str(_lookup(params, "filter") or ""),
        sort_by=str(_lookup(params, "sortBy") or ""),
        descending=order == "descending",
        start_index=start,
        count=count,
        attributes=_csv(_lookup(params, "attributes")),
        excluded=_csv(_lookup(params, "excludedAttributes")),
        cursor=None if cursor is None else str(cursor),
    )


def parse_version(header: str | None) -> int | None:
    """An If-Match / If-None-Match value as our version number; `*` and absent mean no condition."""
    if header is None or header.strip() in ("", "*"):
        return None
    tag = header.split(",")[0].strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    try:
        return int(tag)
    except ValueError as exc:
        raise errors.PreconditionFailed(f"unknown entity tag {header!r}") from exc
