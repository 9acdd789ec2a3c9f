"""Template filters: readable times and statuses. Every value is still escaped by Jinja2's autoescape."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2

from admin_console.domain.portals import PORTAL_NAMES

IDP_NAMES = {"okta": "Okta", "entra": "Microsoft Entra ID", "other": "Other"}
# What every RFC 9967 event URI starts with (RFC 9967 §2.3-§2.4): shown as `prov:patch:full`.
EVENT_URI_PREFIX = "urn:ietf:params:scim:event:"


def when(value: str) -> str:
    """An RFC 3339 time as `2026-12-01 23:40:12 UTC`; empty stays empty."""
    if not value:
        return ""
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return value
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def event_uri_parts(uri: str) -> tuple[str, str]:
    """An event URI as (the common prefix, the rest): pages show the rest and keep the prefix in text that
    is hidden on screen, so a screen reader reads, and a copy takes, the whole URI."""
    if uri.startswith(EVENT_URI_PREFIX):
        return EVENT_URI_PREFIX, uri.removeprefix(EVENT_URI_PREFIX)
    return "", uri


def install_filters(env: jinja2.Environment) -> None:
    env.filters["when"] = when
    env.filters["event_uri_parts"] = event_uri_parts
    env.filters["idp"] = lambda v: IDP_NAMES.get(v, v or "—")
    env.filters["portal_name"] = lambda v: PORTAL_NAMES.get(v, v)
