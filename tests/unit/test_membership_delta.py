"""The fast Group PATCH's two pure steps: the member changes told from the operations alone, and what they
do to the named members' state (the rows to write and the event's delta)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from directory.domain.membership_delta import canonical, named_ids, work_out
from scim_core.patch import (
    AddMembers,
    MemberChange,
    MemberRef,
    RemoveMembers,
    apply_patch,
    member_changes_alone,
    parse_patch_request,
)
from scim_core.schema import GROUP_RESOURCE, GROUP_URN

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"
GROUP_ID = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"
A, B, C = (str(uuid.UUID(int=i)) for i in (1, 2, 3))


def _group() -> dict[str, Any]:
    return {"schemas": [GROUP_URN], "displayName": "Engineering"}


def _group_patches() -> list[str]:
    """The recorded PATCH requests (Okta's and Entra's, idp-clients §1.8, §2.8) that apply to a Group."""
    names = []
    for path in sorted(PAYLOADS.glob("*.json")):
        body = json.loads(path.read_text())
        if not isinstance(body, dict) or "Operations" not in body:
            continue  # a POST or PUT body
        try:
            apply_patch(_group(), parse_patch_request(body), GROUP_RESOURCE, resource_id=GROUP_ID)
        except Exception:
            continue  # a User PATCH, refused on a Group
        names.append(path.name)
    return names


GROUP_PATCHES = _group_patches()


def test_the_recorded_group_patches_are_there() -> None:
    assert {"okta-1.8-membership-remove-add.json", "entra-2.8-remove-members.json"} <= set(GROUP_PATCHES)


@pytest.mark.parametrize("name", GROUP_PATCHES)
def test_the_changes_told_alone_are_the_changes_on_the_stored_document(name: str) -> None:
    ops = parse_patch_request(json.loads((PAYLOADS / name).read_text()))
    full = apply_patch(_group(), ops, GROUP_RESOURCE, resource_id=GROUP_ID).member_changes
    alone = member_changes_alone(ops, GROUP_RESOURCE, resource_id=GROUP_ID)
    assert alone == full, name
    assert alone is not None
    assert [getattr(c, "refs", ()) for c in alone] == [getattr(c, "refs", ()) for c in full], name


def test_an_operation_the_pre_pass_cannot_take_gives_none() -> None:
    # apply_patch refuses it (members.value is not patchable); the general path gives that refusal.
    ops = parse_patch_request(
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "members.value", "value": "x"}],
        }
    )
    assert member_changes_alone(ops, GROUP_RESOURCE, resource_id=GROUP_ID) is None


def test_named_ids_are_canonical_and_once_each() -> None:
    changes: list[MemberChange] = [
        AddMembers((A.upper(),), (MemberRef(A.upper()),)),
        RemoveMembers((A, "not-a-uuid", B)),
    ]
    assert named_ids(changes) == [A, B]
    assert canonical("not-a-uuid") is None


def test_an_add_inserts_users_only_and_keeps_labels_it_does_not_give() -> None:
    stranger = str(uuid.uuid4())
    delta = work_out(
        [
            AddMembers(
                (A, B, stranger), (MemberRef(A, "Ann"), MemberRef(B, None, "User"), MemberRef(stranger))
            )
        ],
        members={B: ("Bob", None)},
        users=frozenset({A, B}),
    )
    assert delta.added == {A} and delta.removed == frozenset()
    assert dict(delta.upserts) == {A: ("Ann", None), B: ("Bob", "User")}
    assert delta.relabelled


def test_an_add_of_a_member_as_it_is_changes_nothing() -> None:
    delta = work_out([AddMembers((A,), (MemberRef(A),))], members={A: ("Ann", None)}, users=frozenset({A}))
    assert delta.empty and not delta.relabelled


def test_add_then_remove_cancels_out_and_remove_then_add_keeps_the_member() -> None:
    add_c, remove_c = AddMembers((C,), (MemberRef(C),)), RemoveMembers((C,))
    assert work_out([add_c, remove_c], members={}, users=frozenset({C})).empty
    kept = work_out([remove_c, add_c], members={C: (None, None)}, users=frozenset({C}))
    assert kept.empty
    relabelled = work_out(
        [remove_c, AddMembers((C,), (MemberRef(C, "Cy"),))], members={C: (None, None)}, users=frozenset({C})
    )
    assert relabelled.added == frozenset() and relabelled.removed == frozenset()
    assert dict(relabelled.upserts) == {C: ("Cy", None)} and relabelled.relabelled


def test_a_remove_of_a_non_member_is_a_no_op() -> None:
    delta = work_out([RemoveMembers((A, "garbage"))], members={B: (None, None)}, users=frozenset())
    assert delta.empty


def test_removes_come_out_as_removed_with_no_row_to_write() -> None:
    delta = work_out([RemoveMembers((A, B))], members={A: (None, None), B: ("Bob", None)}, users=frozenset())
    assert delta.removed == {A, B} and delta.added == frozenset() and not delta.upserts
