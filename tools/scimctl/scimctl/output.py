"""Human or machine (--json) output; every command returns one JSON-able dict."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn


def emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=None, sort_keys=False))
        return
    _human(result, 0)


def _human(value: Any, indent: int) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                print(f"{pad}{key}:")
                _human(item, indent + 1)
            else:
                print(f"{pad}{key}: {item if item not in (None, '') else '-'}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                first = True
                for key, sub in item.items():
                    lead = "- " if first else "  "
                    first = False
                    print(f"{pad}{lead}{key}: {sub}")
            else:
                print(f"{pad}- {item}")
    else:
        print(f"{pad}{value}")


def fail(message: str, as_json: bool, code: int = 1) -> NoReturn:
    if as_json:
        print(json.dumps({"error": message}))
    else:
        print(f"scimctl: {message}", file=sys.stderr)
    raise SystemExit(code)
