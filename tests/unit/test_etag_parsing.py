"""If-Match / If-None-Match values read as our versions (RFC 7232 §3.1, §3.2; RFC 7644 §3.14)."""

from __future__ import annotations

import pytest
from scim_edge.scim.etags import parse_entity_tags


@pytest.mark.parametrize("header", [None, "", "   "])
def test_absent_or_blank_is_no_condition(header: str | None) -> None:
    assert parse_entity_tags(header) is None


def test_star_matches_any_version() -> None:
    tags = parse_entity_tags(" * ")
    assert tags is not None and tags.matches(1) and tags.matches(99)


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        ('W/"3"', {3}),
        ('"3"', {3}),
        ("3", {3}),
        ('W/"1", W/"2" ,"7"', {1, 2, 7}),
        ('W/"e180ee84f0671b1"', set()),  # RFC 7644 §3.14's example tag: not one we issue
        ('"1,2"', set()),  # a comma inside the quotes does not split the tag
        ('W/"-1", W/"٣"', set()),
        ('W/"4", garbage', {4}),
    ],
)
def test_tags_are_compared_weakly_and_foreign_ones_never_match(header: str, versions: set[int]) -> None:
    tags = parse_entity_tags(header)
    assert tags is not None and not tags.any
    assert tags.versions == versions
    assert all(tags.matches(v) for v in versions)
    assert not tags.matches(5)
