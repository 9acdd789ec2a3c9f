"""The number in a User's ETag (directory.domain.representation.user_version): it follows `groups`."""

from __future__ import annotations

from typing import Any

from directory.domain.representation import user_version


def row(version: int, stamp: int, count: int = 0, total: int = 0, top: int = 0) -> dict[str, Any]:
    return {"version": version, "stamp": stamp, "membership_stamp": [count, total, top]}


def test_a_user_in_no_group_has_its_row_version() -> None:
    assert user_version(row(1, 500)) == 1
    assert user_version(row(7, 900)) == 7


def test_joining_leaving_updating_and_renames_all_change_it() -> None:
    alone = user_version(row(3, 100))
    joined = user_version(row(3, 100, 1, 120, 120))
    second = user_version(row(3, 100, 2, 250, 130))
    left_first = user_version(row(3, 100, 1, 130, 130))
    renamed = user_version(row(3, 100, 1, 140, 140))  # the group took a new name stamp
    updated = user_version(row(4, 150, 1, 140, 140))
    values = [alone, joined, second, left_first, renamed, updated]
    assert len(set(values)) == len(values)
    # Tagged above every plain version, so a membership-derived tag never names a row version.
    assert all(v >= 1 << 62 for v in values[1:]) and max(values) < 1 << 63


def test_the_same_state_gives_the_same_tag() -> None:
    assert user_version(row(3, 100, 2, 250, 130)) == user_version(row(3, 100, 2, 250, 130))
