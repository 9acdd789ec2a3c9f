"""RFC 9865 cursor sealing: round trips, tampering, replay with another query, expiry, shared secrets."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from directory.domain.cursors import Cursor, CursorCodec, Position, SortValue, query_key
from scim_core.errors import ExpiredCursor, InvalidCursor

QUERY = query_key("conn-1", "User", 'userName sw "a"', "userName", False)
UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")  # RFC 3986 §2.3, required of cursors by RFC 9865 §2


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "value",
    [
        None,
        "alice@example.com",
        "",
        True,
        False,
        7,
        Decimal("12.50"),
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        uuid.UUID("23a35c27-23d3-4c03-b4c5-6443c09e7173"),
    ],
)
def test_round_trip_keeps_the_sort_value_and_its_type(value: SortValue) -> None:
    codec = CursorCodec(b"secret", 60)
    cursor = Cursor("after", Position(value, 42))
    token = codec.seal(QUERY, cursor)
    assert UNRESERVED.fullmatch(token)
    opened = codec.open(token, QUERY)
    assert opened == cursor and type(opened.position.sort_value) is type(value)


def test_direction_is_kept() -> None:
    codec = CursorCodec(b"secret", 60)
    cursor = Cursor("before", Position("m", 3))
    assert codec.open(codec.seal(QUERY, cursor), QUERY) == cursor


def test_another_replica_with_the_same_secret_opens_it() -> None:
    token = CursorCodec(b"shared", 60).seal(QUERY, Cursor("after", Position("x", 1)))
    assert CursorCodec(b"shared", 60).open(token, QUERY).position.seq == 1
    with pytest.raises(InvalidCursor):
        CursorCodec(b"other", 60).open(token, QUERY)


@pytest.mark.parametrize(
    "other",
    [
        query_key("conn-2", "User", 'userName sw "a"', "userName", False),
        query_key("conn-1", "Group", 'userName sw "a"', "userName", False),
        query_key("conn-1", "User", 'userName sw "b"', "userName", False),
        query_key("conn-1", "User", 'userName sw "a"', "displayName", False),
        query_key("conn-1", "User", 'userName sw "a"', "userName", True),
    ],
)
def test_a_cursor_replayed_with_another_query_is_invalid(other: bytes) -> None:
    codec = CursorCodec(b"secret", 60)
    token = codec.seal(QUERY, Cursor("after", Position("x", 1)))
    with pytest.raises(InvalidCursor):
        codec.open(token, other)


def test_sort_by_is_matched_case_insensitively() -> None:
    assert query_key("c", "User", "", "USERNAME", False) == query_key("c", "User", "", "userName", False)


def test_tampering_is_detected() -> None:
    codec = CursorCodec(b"secret", 60)
    token = codec.seal(QUERY, Cursor("after", Position("x", 1)))
    payload, mac = token.split(".")
    forged = codec.seal(QUERY, Cursor("after", Position("x", 999))).split(".")[0]
    for bad in (
        f"{forged}.{mac}",
        f"{payload}.{mac[:-2]}AA",
        token + "x",
        "",
        "abc",
        "a.b.c",
        "!!!.???",
        "x" * 5000,
    ):
        with pytest.raises(InvalidCursor):
            codec.open(bad, QUERY)


def test_expiry_is_cursor_timeout_after_issue() -> None:
    clock = Clock()
    codec = CursorCodec(b"secret", 30, clock=clock)
    token = codec.seal(QUERY, Cursor("after", Position(None, 5)))
    clock.now += 30
    assert codec.open(token, QUERY).position.seq == 5
    clock.now += 1
    with pytest.raises(ExpiredCursor) as caught:
        codec.open(token, QUERY)
    assert caught.value.scim_type == "expiredCursor" and caught.value.status == 400


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        CursorCodec(b"", 60)
