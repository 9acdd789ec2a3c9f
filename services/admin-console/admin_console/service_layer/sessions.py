"""Signed cookie sessions: the console keeps no session state, so any replica serves any admin.

The cookie holds who signed in, the session's CSRF token and when it began, signed with the server-side
secret (itsdangerous, HMAC-SHA1 over a timestamped payload). The signature's timestamp is renewed on every
request, so `idle_s` is an idle expiry; `max_age_s` bounds a session however active. Signing out clears
the cookie; because nothing is stored server-side, a copy of a cookie taken before sign-out stays valid
until its idle expiry (keep `CONSOLE_SESSION_IDLE_SECONDS` short where that matters).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "console_session"


@dataclass(frozen=True)
class Session:
    subject: str
    csrf: str
    started_at: float

    def csrf_ok(self, supplied: str) -> bool:
        return bool(supplied) and hmac.compare_digest(supplied.encode(), self.csrf.encode())


class SessionCodec:
    def __init__(self, secret: str, idle_s: float, max_age_s: float) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="admin-console-session")
        self.idle_s = idle_s
        self.max_age_s = max_age_s

    @staticmethod
    def new(subject: str) -> Session:
        return Session(subject=subject, csrf=secrets.token_urlsafe(24), started_at=time.time())

    def encode(self, session: Session) -> str:
        return self._serializer.dumps(
            {"sub": session.subject, "csrf": session.csrf, "t0": session.started_at}
        )

    def decode(self, value: str) -> Session | None:
        """The session in a cookie, or None if it is forged, idle too long or too old."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=int(self.idle_s))
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict):
            return None
        subject, csrf, started = data.get("sub"), data.get("csrf"), data.get("t0")
        if not isinstance(subject, str) or not isinstance(csrf, str) or not isinstance(started, int | float):
            return None
        if time.time() - float(started) > self.max_age_s:
            return None
        return Session(subject, csrf, float(started))
