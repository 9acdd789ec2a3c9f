"""RFC 9865 cursors: a keyset position the client carries between pages, sealed so it cannot be forged.

A cursor holds the sort value and `seq` of the row the next (or previous) page starts after (or
before), and when it stops being valid (`cursorTimeout`). Nothing is kept on the server: any
directory replica that shares the secret opens any other's cursors.

The query a cursor was made for (connection, resource type, filter, sortBy, sortOrder) is not
written into it but mixed into its HMAC, so a cursor replayed with another query fails the check
and is answered `invalidCursor` (RFC 9865), exactly like a tampered one.

Format: `base64url(payload) "." base64url(HMAC-SHA256)`, unpadded, so it uses only the RFC 3986
§2.3 unreserved characters that RFC 9865 §2 allows in a cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from scim_core.errors import ExpiredCursor, InvalidCursor
from suite_common import jsonutil

SortValue = str | bool | int | Decimal | datetime | uuid.UUID | None
Direction = Literal["after", "before"]

_FORMAT = 1
_MAX_LENGTH = 4096  # a cursor we issued is far shorter; anything longer is not worth decoding


@dataclass(frozen=True)
class Position:
    """A row's place in the listing order: its sort value (None without sortBy or when absent), then seq."""

    sort_value: SortValue
    seq: int


@dataclass(frozen=True)
class Cursor:
    direction: Direction
    position: Position


def query_key(connection_id: str, kind: str, filter_text: str, sort_by: str, descending: bool) -> bytes:
    """What a cursor is bound to. Attribute names are case-insensitive (RFC 7643 §2.1); filter text is not
    normalised, so a client must resend the filter it paged with, as RFC 9865 §2 asks."""
    parts = [connection_id, kind, filter_text, sort_by.lower(), "desc" if descending else "asc"]
    return jsonutil.dumps(parts)


class CursorCodec:
    def __init__(self, secret: bytes, timeout_s: int, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("a cursor secret is required")
        # A key for this one purpose, so the configured secret could serve other MACs without overlap.
        self._key = hmac.new(secret, b"scimsuite cursor v1", hashlib.sha256).digest()
        self.timeout_s = timeout_s
        self._clock = clock

    def seal(self, query: bytes, cursor: Cursor) -> str:
        payload = jsonutil.dumps(
            {
                "f": _FORMAT,
                "d": "a" if cursor.direction == "after" else "b",
                "s": cursor.position.seq,
                "k": _encode_value(cursor.position.sort_value),
                "e": int(self._clock()) + self.timeout_s,
            }
        )
        return f"{_b64(payload)}.{_b64(self._mac(query, payload))}"

    def open(self, token: str, query: bytes) -> Cursor:
        """The cursor in `token`: `InvalidCursor` unless ours and for `query`; `ExpiredCursor` if too old."""
        if len(token) > _MAX_LENGTH or token.count(".") != 1:
            raise InvalidCursor("the cursor is not one this server issued")
        encoded_payload, encoded_mac = token.split(".")
        try:
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        except (binascii.Error, ValueError):
            raise InvalidCursor("the cursor is not one this server issued") from None
        if not hmac.compare_digest(mac, self._mac(query, payload)):
            raise InvalidCursor("the cursor is not one this server issued for this filter and sort")
        try:
            body = jsonutil.loads(payload)
            direction: Direction = "after" if body["d"] == "a" else "before"
            position = Position(_decode_value(body["k"]), int(body["s"]))
            expires = int(body["e"])
        except (KeyError, TypeError, ValueError, ArithmeticError, jsonutil.JSONDecodeError):
            raise InvalidCursor("the cursor is not one this server issued") from None
        if body.get("f") != _FORMAT:
            raise InvalidCursor("the cursor was issued by an older version of this server")
        if self._clock() > expires:
            raise ExpiredCursor(f"the cursor has expired (cursorTimeout is {self.timeout_s} seconds)")
        return Cursor(direction, position)

    def _mac(self, query: bytes, payload: bytes) -> bytes:
        return hmac.new(self._key, len(query).to_bytes(4, "big") + query + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encode_value(value: SortValue) -> list[Any] | None:
    """The sort value with its type, so the next query binds it as the type its SQL expression has."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    raise TypeError(f"cannot put a {type(value).__name__} sort value into a cursor")


def _decode_value(raw: Any) -> SortValue:
    if raw is None:
        return None
    tag, value = raw
    if tag == "b" and isinstance(value, bool):
        return value
    if tag == "i" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tag == "s" and isinstance(value, str):
        return value
    if tag == "n" and isinstance(value, str):
        return Decimal(value)
    if tag == "t" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if tag == "u" and isinstance(value, str):
        return uuid.UUID(value)
    raise ValueError(f"sort value {raw!r} has an unknown type")
