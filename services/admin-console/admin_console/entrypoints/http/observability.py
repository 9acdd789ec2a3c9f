"""The console's route templates, for suite_common.web's span, series and log line per request.

Ids in paths (workspaces, users, groups, log entries) become `{id}`, so series stay few; a path outside
the console's pages is `unmatched`.
"""

from __future__ import annotations

import re

from suite_common.web import OPERATIONAL

_ID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+)$")
_TOP = frozenset({"", "sign-in", "sign-out", "workspaces", "operations", "audit", "static", "favicon.ico"})
_WORDS = frozenset(
    {
        "dashboard", "store", "mdm", "enable", "first-request.json", "tokens", "rotate", "revoke", "disable",
        "behaviour", "attributes", "remove", "log", "log.json", "people", "groups", "roles", "devices",
        "replay", "preview", "guard", "release", "discard", "dry-run", "drift", "repair", "profile",
        "events", "receivers", "delete", "replay-all",
    }
)  # fmt: skip
UNMATCHED = "unmatched"


def route_template(path: str) -> str:
    if path in OPERATIONAL:
        return path
    parts = path.split("/")[1:]
    if not parts or parts[0] not in _TOP:
        return UNMATCHED
    if parts[0] == "static":
        return "/static/{file}"
    out = []
    for part in parts:
        if _ID.match(part):
            out.append("{id}")
        elif part in _TOP or part in _WORDS:
            out.append(part)
        else:
            return UNMATCHED
    return "/" + "/".join(out)
