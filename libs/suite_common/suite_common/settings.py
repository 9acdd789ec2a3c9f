"""Reading typed values from the environment.

Each service builds one frozen settings object in one function (`<service>.config.load_settings`) from
these helpers; nothing else reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class SettingsError(ValueError):
    """A configuration variable is missing or malformed."""


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    return value if value else default


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if not raw:
        return default
    low = raw.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be a boolean, got {raw!r}")


def environ() -> Mapping[str, str]:
    """The process environment; the only place that touches os.environ."""
    return os.environ
