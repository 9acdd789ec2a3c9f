"""Rendering a page with what every template needs (the session, its CSRF token, the notice)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin_console.entrypoints.http.context import SESSION

# Notices after a redirect are keys, never free text from the URL.
NOTICES = {
    "workspace-created": "Workspace created.",
    "token-rotated": "Token rotated.",
    "tokens-revoked": "Tokens revoked: the IdP can no longer reach this portal until you rotate a new token.",
    "scim-disabled": "SCIM disabled: the IdP can no longer reach this portal.",
    "behaviour-saved": (
        "Behaviour saved. It applies to future events; accounts already provisioned keep theirs."
    ),
    "role-mapped": "Role mapping saved.",
    "attribute-mapped": "Attribute mapping saved.",
    "attribute-removed": "Attribute mapping removed.",
    "policy-added": "Policy added.",
    "policy-removed": "Policy removed.",
    "device-added": "Device added.",
    "device-updated": "Device updated.",
    "device-removed": "Device removed.",
    "dead-letter-replayed": "Event replayed and applied.",
    "dead-letters-replayed": "Every dead letter replayed and applied.",
    "profile-saved": "Compatibility profile saved. It applies to the IdP's next requests.",
    "stream-created": "Event stream created.",
    "stream-deleted": "Event stream deleted: its receivers get no more events.",
    "receiver-added": "Receiver added. Its Authorization header is stored and not shown again.",
    "receiver-removed": "Receiver removed.",
    "guard-saved": "Guard thresholds saved.",
    "held-released": "Held actions released: applied in order, each once.",
    "held-discarded": "Held actions discarded: none of them was applied.",
    "dry-run-on": "Dry run is on: the portal records what it would do and applies nothing.",
}


def page(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    session = request.get(SESSION)
    return aiohttp_jinja2.render_template(
        template,
        request,
        {
            "session": session,
            "csrf": session.csrf if session else "",
            "notice": NOTICES.get(request.query.get("notice", ""), ""),
            "errors": {},
            **context,
        },
        status=status,
    )


def redirect(location: str, notice: str = "") -> web.HTTPSeeOther:
    if notice:
        location += ("&" if "?" in location else "?") + f"notice={notice}"
    return web.HTTPSeeOther(location)
