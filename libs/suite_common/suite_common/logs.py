"""Structured JSON log lines carrying trace and span ids, plus the workspace and portal a line is about.

A handler calls `bind(workspace=..., portal=...)` once it knows who it serves; every later line of that
asyncio task (one gRPC call, one consumed message) carries the fields, including the request log line the
gRPC interceptor writes when the call ends.

Secrets never reach a line: the formatter masks bearer credentials, SCIM tokens, passwords in URLs and
any field whose name says it holds a secret, as a second line of defence behind the rule that code never
logs them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from suite_common import jsonutil
from suite_common.telemetry import current_trace_ids

REDACTED = "[redacted]"
_SECRET_PATTERNS = (
    # `Authorization: Bearer x`, `token=x`, `"password": "x"`, `x-admin-token: x`, `secret=x`.
    re.compile(
        r"(?i)(bearer\s+|(?:token|secret|password|passwd)[\"']?\s*[=:]?\s*[\"']?)[A-Za-z0-9._~+/=-]{8,}"
    ),
    # Our own token format, wherever it appears (tokens are issued as `scim_<random>`).
    re.compile(r"()\bscim_[A-Za-z0-9_-]{16,}"),
    # The password part of a DSN such as postgresql://user:secret@host/db.
    re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(?=@)"),
)
_SECRET_KEYS = re.compile(r"(?i)token|secret|password|passwd|authorization|credential|api[_-]?key")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_BOUND: ContextVar[Mapping[str, Any]] = ContextVar("log_fields", default=MappingProxyType({}))


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def _clean(key: str, value: Any) -> Any:
    if _SECRET_KEYS.search(key) and isinstance(value, str | bytes):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean("", v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (an exception, a UUID, a datetime) is logged as text rather than failing the line.
    return redact(str(value))


def bind(**fields: Any) -> None:
    """Attach fields to every later log line of the current asyncio task (and tasks it starts)."""
    _BOUND.set(MappingProxyType({**_BOUND.get(), **fields}))


def bound() -> Mapping[str, Any]:
    return _BOUND.get()


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        line.update(current_trace_ids())
        extra = {**_BOUND.get(), **{k: v for k, v in vars(record).items() if k not in _STANDARD}}
        for key, value in extra.items():
            if not key.startswith("_"):
                line[key] = _clean(key, value)
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return jsonutil.dumps(line).decode()


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp's access log would repeat what our own request log line says.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
