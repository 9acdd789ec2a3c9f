"""The values a PATCH request turns into: operations in, a new document and membership delta out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from scim_core.errors import NoTarget

OpName = Literal["add", "remove", "replace"]


@dataclass(frozen=True)
class PatchOperation:
    """One RFC 7644 §3.5.2 operation. `value` is the raw JSON; `None` means absent or null."""

    op: OpName
    path: str | None = None
    value: Any = None

    def __post_init__(self) -> None:
        # RFC 7644 §3.5.2.2: "If 'path' is unspecified, the operation fails with ... 'noTarget'."
        if self.op == "remove" and self.path is None:
            raise NoTarget("a remove operation needs a path")


@dataclass(frozen=True)
class MemberRef:
    """A member as the client sent it: `value`, and the `display` and `type` only if it gave them.

    Kept verbatim so the member reads back exactly as sent (checkers compare it after a PATCH);
    `$ref` is derived from `value` and `type` on output.
    """

    value: str
    display: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class AddMembers:
    """Union these ids into the group; ids already present are a no-op (checklist 52).

    `refs` carries what the client sent with each id; it does not take part in equality, which is
    about the membership delta.
    """

    ids: tuple[str, ...]
    refs: tuple[MemberRef, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class RemoveMembers:
    """Remove only these ids; ids that are not members are a no-op (checklist 54, 55)."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class RemoveAllMembers:
    """Clear the membership (`remove` of `members` with neither filter nor value)."""


@dataclass(frozen=True)
class ReplaceMembers:
    """Set the membership to exactly these ids; `()` clears it (checklist 56)."""

    ids: tuple[str, ...]
    refs: tuple[MemberRef, ...] = field(default=(), compare=False)


MemberChange = AddMembers | RemoveMembers | RemoveAllMembers | ReplaceMembers


@dataclass(frozen=True)
class PatchResult:
    """The patched, normalized document and the membership changes, in operation order.

    The directory applies membership as set operations in SQL and never loads the member list,
    so group membership is reported as a delta instead of being written into `doc`.
    """

    doc: dict[str, Any]
    member_changes: list[MemberChange] = field(default_factory=list)
