"""Attribute paths: RFC 7644 §3.10 `attrPath` and the §3.5.2 PATCH `path`.

    attrPath = [URI ":"] ATTRNAME *1subAttr
    path     = attrPath / valuePath [subAttr]      ; valuePath = attrPath "[" valFilter "]"

Both share the filter grammar of `scim_core.filter.parser`, so a path accepted in a filter is
accepted here and vice versa. Names keep the client's spelling; resolve them against a schema
with its case-insensitive lookup.

The URN is everything up to the last colon, so a bare extension URN such as
`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` parses as URN
`urn:...:enterprise:2.0` with attribute `User`; a caller that accepts whole-extension paths checks
`f"{path.urn}:{path.attr}"` against its schema ids first.
"""

from __future__ import annotations

from dataclasses import dataclass

from scim_core.errors import InvalidFilter, InvalidPath, ScimError
from scim_core.filter.ast import AttrPath, Expr
from scim_core.filter.parser import attr_path_from_text, parse_path_parts

__all__ = ["AttrPath", "PatchPath", "parse_attr_path", "parse_patch_path"]


@dataclass(frozen=True)
class PatchPath:
    """A PATCH operation's target (RFC 7644 §3.5.2).

    `emails[type eq "work"].value` is `PatchPath(AttrPath(None, "emails"), <type eq "work">, "value")`;
    `name.givenName` is `PatchPath(AttrPath(None, "name", "givenName"), None, None)`. Paths inside
    `value_filter` are relative to one element of `attr`.
    """

    attr: AttrPath
    value_filter: Expr | None = None
    sub_attr: str | None = None


def parse_attr_path(text: str, *, error: type[ScimError] = InvalidPath) -> AttrPath:
    """Parse one `attrPath` (a filter operand, a `sortBy`, an `attributes=` entry).

    Raises `error` (default `InvalidPath`) when `text` is not exactly an attribute path; pass
    `InvalidValue` or `InvalidFilter` for contexts whose RFC error type differs.
    """
    path = attr_path_from_text(text.strip())
    if path is None:
        raise error(f"invalid attribute path {text!r}")
    return path


def parse_patch_path(text: str) -> PatchPath:
    """Parse a PATCH `path` (RFC 7644 §3.5.2); raise `InvalidPath` (400 invalidPath) if malformed."""
    try:
        attr, value_filter, sub_attr = parse_path_parts(text)
    except InvalidFilter as exc:
        raise InvalidPath(f"invalid path {text!r}: {exc.detail}") from None
    return PatchPath(attr, value_filter, sub_attr)
