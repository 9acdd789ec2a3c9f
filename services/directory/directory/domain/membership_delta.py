"""What a Group PATCH's member adds and removes do, worked out before anything is written.

The fast Group write (`ResourceService._patch_group`) reads, in one statement, the group and the state of
just the members its operations name; this module runs the operations on that state. The result is the
exact rows to write and the net delta for the event, so the write is one compare-and-set statement and the
event it carries already says what changed. The rules are those of the set operations it replaces
(`groups.add_members`, `groups.remove_members`): an add keeps an existing member's `display` and `type`
unless it gives new ones, ids that are not users of the connection are ignored, and an add undone by a
later remove in the same request cancels out (and the other way round).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scim_core.patch import AddMembers, MemberChange, MemberRef, RemoveMembers

# A member's labels as stored: (display, type), each None when the client gave none.
Labels = tuple[str | None, str | None]


def canonical(value: str) -> str | None:
    """The id a membership row is keyed by, or None for a value that cannot be one of our users."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


def named_ids(changes: Iterable[MemberChange]) -> list[str]:
    """Every id the changes name, canonical and once each: what the write must read the state of."""
    seen: dict[str, None] = {}
    for change in changes:
        for value in _refs(change) if isinstance(change, AddMembers) else getattr(change, "ids", ()):
            cid = canonical(value if isinstance(value, str) else value.value)
            if cid is not None:
                seen[cid] = None
    return list(seen)


def _refs(change: AddMembers) -> tuple[MemberRef, ...]:
    return change.refs or tuple(MemberRef(i) for i in change.ids)


@dataclass(frozen=True)
class MembershipDelta:
    added: frozenset[str]
    removed: frozenset[str]
    # Rows to insert or whose labels change, with their labels after the request.
    upserts: Mapping[str, Labels]
    relabelled: bool  # a kept member's `display` or `type` changed

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.upserts)


def work_out(
    changes: Iterable[AddMembers | RemoveMembers],
    members: Mapping[str, Labels],
    users: frozenset[str],
) -> MembershipDelta:
    """Run `changes` in order on `members` (the current members among the named ids, with their labels);
    `users` are the named ids that are users of the group's connection."""
    state = dict(members)
    for change in changes:
        if isinstance(change, AddMembers):
            for ref in _refs(change):
                cid = canonical(ref.value)
                if cid is None or cid not in users:
                    continue
                old = state.get(cid)
                if old is None:
                    state[cid] = (ref.display, ref.type)
                else:
                    state[cid] = (
                        ref.display if ref.display is not None else old[0],
                        ref.type if ref.type is not None else old[1],
                    )
        else:
            for value in change.ids:
                cid = canonical(value)
                if cid is not None:
                    state.pop(cid, None)
    added = frozenset(state) - frozenset(members)
    removed = frozenset(members) - frozenset(state)
    upserts = {cid: labels for cid, labels in state.items() if members.get(cid) != labels}
    return MembershipDelta(
        added=added,
        removed=removed,
        upserts=upserts,
        relabelled=any(cid in members for cid in upserts),
    )
