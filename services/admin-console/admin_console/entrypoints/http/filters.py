"""Template filters: readable times and statuses. Every value is still escaped by Jinja2's autoescape."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2

from admin_console.domain.portals import PORTAL_NAMES

IDP_NAMES = {"okta": "Okta", "entra": "Microsoft Entra ID", "other": "Other"}


def when(value: str) -> str:
    """An RFC 3339 time as `2026-12-01 23:40:12 UTC`; empty stays empty."""
    if not value:
        return ""
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return value
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def install_filters(env: jinja2.Environment) -> None:
    env.filters["when"] = when
    env.filters["idp"] = lambda v: IDP_NAMES.get(v, v or "—")
    env.filters["portal_name"] = lambda v: PORTAL_NAMES.get(v, v)
