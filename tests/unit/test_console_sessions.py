"""Console sessions are signed cookies: forged, idle or too old ones are refused."""

from __future__ import annotations

import time

import pytest
from admin_console.service_layer.sessions import SessionCodec


def test_a_session_round_trips_and_checks_its_csrf_token() -> None:
    codec = SessionCodec("secret", idle_s=60, max_age_s=3600)
    session = codec.new("admin")
    decoded = codec.decode(codec.encode(session))
    assert decoded == session
    assert decoded.csrf_ok(session.csrf)
    assert not decoded.csrf_ok("") and not decoded.csrf_ok("other")


def test_forged_or_foreign_cookies_are_refused() -> None:
    codec = SessionCodec("secret", idle_s=60, max_age_s=3600)
    value = codec.encode(codec.new("admin"))
    assert codec.decode(value[:-2] + ("AA" if not value.endswith("AA") else "BB")) is None
    assert SessionCodec("another-secret", 60, 3600).decode(value) is None
    assert codec.decode("") is None


def test_idle_and_old_sessions_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec("secret", idle_s=60, max_age_s=3600)
    session = codec.new("admin")
    value = codec.encode(session)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 120)
    assert codec.decode(value) is None  # idle for longer than 60 s
    # Renewed every minute (as each request does), it still ends after max_age.
    monkeypatch.setattr(time, "time", lambda: now + 4000)
    assert codec.decode(codec.encode(session)) is None
