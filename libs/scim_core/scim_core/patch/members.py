"""Turn an operation on a Group's `members` into a membership delta (RFC 7644 §3.5.2).

The directory never loads a group's member list, so instead of editing `members` in the document
each operation becomes an `AddMembers`/`RemoveMembers`/`RemoveAllMembers`/`ReplaceMembers` that
the caller runs as a set operation. The rules follow what Okta and Entra send (idp-clients §1.8,
§2.8, checklist 52-57):

* `add` is a union, never a replacement;
* `remove` with `members[value eq "A" or value eq "B"]` removes only the listed ids;
* `remove` of `members` with a value list (Entra's default) removes only those ids — never all,
  even though a literal reading of RFC 7644 §3.5.2.2 would clear the group;
* `remove` of `members` with neither filter nor value clears the group;
* `replace` with `[]` clears the group.
"""

from __future__ import annotations

from typing import Any

from scim_core.errors import InvalidFilter, InvalidPath, InvalidValue
from scim_core.filter.ast import Compare, Expr, Or
from scim_core.patch.keys import get_ci
from scim_core.patch.model import (
    AddMembers,
    MemberChange,
    MemberRef,
    OpName,
    RemoveAllMembers,
    RemoveMembers,
    ReplaceMembers,
)


def member_change(
    op: OpName, value_filter: Expr | None, sub_attr: str | None, value: Any
) -> MemberChange | None:
    """The delta for one operation on `members`; None when it changes nothing."""
    if sub_attr is not None:
        # members.value/display/type are immutable and derived from the member itself.
        raise InvalidPath(f"members.{sub_attr} cannot be patched; add or remove the member instead")
    if value_filter is not None:
        if op != "remove":
            raise InvalidPath(f"a members value filter is only supported with remove, not {op}")
        return RemoveMembers(_filter_ids(value_filter))
    if op == "replace":
        refs = member_refs(value)
        return ReplaceMembers(tuple(r.value for r in refs), refs)
    if op == "add":
        refs = member_refs(value)
        return AddMembers(tuple(r.value for r in refs), refs) if refs else None
    if value is None:
        return RemoveAllMembers()
    ids = member_ids(value)
    return RemoveMembers(ids) if ids else None


def member_ids(value: Any) -> tuple[str, ...]:
    """Member ids from `[{"value": id, ...}]`, a single object, or a bare id string."""
    return tuple(r.value for r in member_refs(value))


def member_refs(value: Any) -> tuple[MemberRef, ...]:
    """Members from `[{"value": id, ...}]`, a single object, or a bare id string.

    The bare string is the "garbage" form Microsoft's Postman suite sends (`"value": "string id 1"`,
    idp-clients §2.11). `display` and `type` are kept as sent (a non-string one counts as absent);
    `$ref`, null or not, is derived on output and so ignored. Order is kept; a duplicate keeps the
    first one's place and the last one's `display` and `type`.
    """
    items = value if isinstance(value, list) else [value]
    refs: dict[str, MemberRef] = {}
    for item in items:
        if item is None:
            continue
        raw = get_ci(item, "value") if isinstance(item, dict) else item
        if isinstance(raw, bool) or not isinstance(raw, str | int) or str(raw) == "":
            raise InvalidValue("every member needs a non-empty string value")
        display = get_ci(item, "display") if isinstance(item, dict) else None
        kind = get_ci(item, "type") if isinstance(item, dict) else None
        ref = MemberRef(
            str(raw),
            display if isinstance(display, str) and display else None,
            kind if isinstance(kind, str) and kind else None,
        )
        refs[ref.value] = ref
    return tuple(refs.values())


def _filter_ids(expr: Expr) -> tuple[str, ...]:
    """Ids named by `value eq "A" [or value eq "B" ...]`: the only filters a delta can express."""
    if isinstance(expr, Or):
        return tuple(dict.fromkeys(_filter_ids(expr.left) + _filter_ids(expr.right)))
    if (
        isinstance(expr, Compare)
        and expr.path.urn is None
        and expr.path.sub_attr is None
        and expr.path.attr.lower() == "value"
        and expr.op == "eq"
        and isinstance(expr.value, str | int)
        and not isinstance(expr.value, bool)
    ):
        return (str(expr.value),)
    raise InvalidFilter('a members filter must be value eq "<id>", optionally joined with or')
