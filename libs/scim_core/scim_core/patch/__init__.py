"""SCIM PATCH (RFC 7644 §3.5.2): parse a PatchOp request and apply it to a stored document.

`parse_patch_request(body)` gives the operations; `apply_patch(doc, ops, resource, resource_id=...)`
gives a `PatchResult` whose `doc` is the new canonical document and whose `member_changes` are the
Group membership deltas in operation order.
"""

from scim_core.patch.apply import apply_patch, member_changes_alone
from scim_core.patch.model import (
    AddMembers,
    MemberChange,
    MemberRef,
    PatchOperation,
    PatchResult,
    RemoveAllMembers,
    RemoveMembers,
    ReplaceMembers,
)
from scim_core.patch.request import parse_patch_request

__all__ = [
    "AddMembers",
    "MemberChange",
    "MemberRef",
    "PatchOperation",
    "PatchResult",
    "RemoveAllMembers",
    "RemoveMembers",
    "ReplaceMembers",
    "apply_patch",
    "member_changes_alone",
    "parse_patch_request",
]
