"""IdP request bodies from `tests/fixtures/payloads`, with their sample ids swapped for live ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"


def payload(name: str, replace: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON of `<name>.json`; each key of `replace` found in the text becomes its value.

    Replacing in the text rather than in the parsed document also reaches ids inside paths such as
    `members[value eq "89bb..."]`.
    """
    text = (PAYLOADS / f"{name}.json").read_text()
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    body = json.loads(text)
    assert isinstance(body, dict), name
    return body
