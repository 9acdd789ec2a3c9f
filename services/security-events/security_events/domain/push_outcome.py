"""What a push receiver's answer means (RFC 8935 §2.2-§2.4), and when to try again.

- 202 Accepted: delivered. Any other 2xx is taken as delivered too (the SET was received).
- 400 with an RFC 8935 §2.4 error body (`{"err": ..., "description": ...}`): the receiver refused this SET;
  resending the same SET cannot help, so it is recorded as failed and not retried.
- 429: retried no sooner than `Retry-After` (RFC 9110 §10.2.3: seconds or an HTTP date).
- 5xx, other 4xx (401/403: credentials may be fixed), a 400 without a readable error body, timeouts,
  closed connections and garbage: retried with exponential backoff until the dead-letter bound.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DELIVERED, REFUSED, RETRY = "delivered", "refused", "retry"


@dataclass(frozen=True)
class Outcome:
    kind: str
    err: str = ""
    description: str = ""
    retry_after_s: float | None = None

    @property
    def error(self) -> str:
        return f"{self.err}: {self.description}" if self.description else self.err


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify(status: int, body: bytes, retry_after_header: str | None = None) -> Outcome:
    if 200 <= status < 300:
        return Outcome(DELIVERED)
    if status == 400:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("err"), str) and doc["err"]:
            return Outcome(REFUSED, doc["err"], str(doc.get("description") or ""))
        return Outcome(RETRY, "http_400", "400 without an RFC 8935 error body")
    if status == 429:
        return Outcome(RETRY, "http_429", "rate limited", retry_after(retry_after_header))
    # Whatever the body holds (binary, control characters), the recorded text is printable.
    text = body[:200].decode("utf-8", "replace")
    return Outcome(RETRY, f"http_{status}", "".join(c if c.isprintable() else "?" for c in text))


def backoff_s(attempts: int, base_s: float, max_s: float) -> float:
    """Exponential backoff with full jitter on the upper half, so retries of many SETs spread out."""
    ceiling = min(max_s, base_s * (2 ** min(attempts, 30)))
    return float(ceiling / 2 + random.random() * ceiling / 2)
