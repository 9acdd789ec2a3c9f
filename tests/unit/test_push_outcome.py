"""RFC 8935 answers of a push receiver, classified, and the retry timing that follows from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from security_events.domain import push_outcome as po


def test_202_delivers_and_a_400_error_body_refuses_without_retry() -> None:
    assert po.classify(202, b"").kind == po.DELIVERED
    refused = po.classify(400, b'{"err": "invalid_audience", "description": "not us"}')
    assert (refused.kind, refused.error) == (po.REFUSED, "invalid_audience: not us")


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, b"<html>bad</html>"), (400, b'{"error": "x"}'), (401, b""), (500, b"\x00\xff"), (503, b"")],
)
def test_anything_else_is_retried(status: int, body: bytes) -> None:
    assert po.classify(status, body).kind == po.RETRY


def test_429_honours_retry_after_in_seconds_or_as_a_date() -> None:
    assert po.classify(429, b"", "7").retry_after_s == 7.0
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert po.retry_after("Tue, 01 Dec 2026 12:00:30 GMT", now) == 30.0
    assert po.retry_after("soon") is None and po.retry_after(None) is None


def test_backoff_grows_exponentially_and_is_capped() -> None:
    delays = [po.backoff_s(n, 0.5, 60.0) for n in range(12)]
    assert 0.25 <= delays[0] <= 0.5
    assert 8.0 <= delays[5] <= 16.0
    assert all(d <= 60.0 for d in delays) and delays[-1] >= 30.0


def test_a_garbage_body_is_recorded_as_printable_text() -> None:
    outcome = po.classify(500, b"\x00\xffgarbage\n")
    assert outcome.kind == po.RETRY and outcome.description.isprintable() and "garbage" in outcome.description
