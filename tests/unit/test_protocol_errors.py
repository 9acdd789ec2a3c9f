"""Which SCIM error an aiohttp parse failure becomes (scim_edge.http.protocol_errors)."""

from __future__ import annotations

from aiohttp.http_exceptions import BadHttpMessage, BadStatusLine, LineTooLong
from scim_core import errors
from scim_edge.http.protocol_errors import HeadersTooLarge, UriTooLong, protocol_error

LINE, FIELD = 64 * 1024, 32 * 1024


def test_overflow_is_classified_by_the_limit_it_hit() -> None:
    assert isinstance(
        protocol_error(400, LineTooLong(b"/scim/v2/x/Users?...", LINE), None, LINE, FIELD), UriTooLong
    )
    assert isinstance(protocol_error(400, LineTooLong(b"aaaa...", FIELD), None, LINE, FIELD), HeadersTooLarge)


def test_equal_limits_fall_back_to_the_shape_of_the_line() -> None:
    assert isinstance(
        protocol_error(400, LineTooLong(b"/Users?filter=...", LINE), None, LINE, LINE), UriTooLong
    )
    assert isinstance(
        protocol_error(400, LineTooLong(b"Bearer abc...", LINE), None, LINE, LINE), HeadersTooLarge
    )


def test_other_parse_errors_are_invalid_syntax_and_server_errors_stay_opaque() -> None:
    bad = protocol_error(400, BadStatusLine("junk"), "Bad status line 'junk'", LINE, FIELD)
    assert isinstance(bad, errors.InvalidSyntax) and "junk" in bad.detail
    many = protocol_error(400, BadHttpMessage("Too many headers received"), None, LINE, FIELD)
    assert isinstance(many, HeadersTooLarge) and many.to_error()["status"] == "431"
    crash = protocol_error(500, RuntimeError("secret detail"), None, LINE, FIELD)
    assert isinstance(crash, errors.InternalError) and "secret" not in crash.detail
