"""What of a SCIM body may be kept in the provisioning log: secrets redacted, size bounded.

Passwords (RFC 7643 §4.1.1 `password`, also set through PATCH `path: password`) and anything named like a
token or secret are replaced by a marker before the body leaves the edge. A body that is not JSON cannot
be redacted reliably, so it is not kept at all; neither is one larger than `parse_limit`. What is kept is
cut at `max_bytes` (on a character boundary) and marked truncated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suite_common import jsonutil

REDACTED = "[redacted]"
_SENSITIVE_WORDS = ("password", "secret", "token", "authorization", "credential")
ELLIPSIS = "…"


def _sensitive(name: str) -> bool:
    low = name.lower()
    return any(word in low for word in _SENSITIVE_WORDS)


def _path_is_sensitive(path: Any) -> bool:
    if not isinstance(path, str):
        return False
    # `urn:...:User:password`, `password`, `emails[type eq "work"].value` → the attribute name part.
    last = path.rsplit(":", 1)[-1].split("[", 1)[0].split(".", 1)[0]
    return _sensitive(last)


def redact(value: Any) -> Any:
    """A copy of a parsed JSON value with every sensitive value replaced; iterative-safe depth for SCIM."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        redact_value = _path_is_sensitive(value.get("path")) or _path_is_sensitive(value.get("attribute"))
        for key, item in value.items():
            if _sensitive(str(key)) or (redact_value and str(key).lower() == "value"):
                out[key] = REDACTED
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


@dataclass(frozen=True)
class KeptBody:
    text: str
    truncated: bool
    parsed: Any = None


def keep(raw: bytes, max_bytes: int, parse_limit: int, original_size: int = 0) -> KeptBody:
    """The loggable form of a body (empty bytes → empty text). `original_size` is the body's size when
    the caller already let go of a body over the parse limit."""
    size = max(len(raw), original_size)
    if size > parse_limit:
        return KeptBody(f"[body of {size} bytes not kept: over {parse_limit} bytes]", True)
    if not raw:
        return KeptBody("", False)
    try:
        parsed = jsonutil.loads(raw)
    except jsonutil.JSONDecodeError:
        return KeptBody(f"[non-JSON body of {len(raw)} bytes not kept]", True)
    except (RecursionError, ValueError):
        return KeptBody(f"[body of {len(raw)} bytes not kept: not storable]", True)
    try:
        text = jsonutil.dumps(redact(parsed)).decode()
    except (RecursionError, TypeError, ValueError):
        return KeptBody(f"[body of {len(raw)} bytes not kept: not storable]", True)
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return KeptBody(text, False, parsed)
    cut = encoded[:max_bytes].decode(errors="ignore")
    return KeptBody(cut + ELLIPSIS, True, parsed)
