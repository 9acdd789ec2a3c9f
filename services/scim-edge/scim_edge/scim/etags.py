"""Entity tags in conditional requests (RFC 7232 §3.1 If-Match, §3.2 If-None-Match; RFC 7644 §3.14).

Our tags are `W/"<version>"`, the resource's version counter. SCIM clients send those weak tags
back in If-Match (RFC 7644 §3.14 shows exactly that), so tags are compared weakly: `W/"3"`, `"3"`
and a bare `3` all name version 3. A tag we could not have issued names no version, and so never
matches; a header may list several tags, and `*` matches any current representation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One list element: an optionally weak quoted tag (commas allowed inside the quotes), or a bare token.
_ELEMENT = re.compile(r'\s*(?:W/)?(?:"([^"]*)"|([^,\s]+))\s*(?:,|$)')


@dataclass(frozen=True)
class EntityTags:
    any: bool
    versions: frozenset[int]

    def matches(self, version: int) -> bool:
        return self.any or version in self.versions


def parse_entity_tags(header: str | None) -> EntityTags | None:
    """The tags of an If-Match / If-None-Match value; None when the header is absent or blank."""
    if header is None or not header.strip():
        return None
    if header.strip() == "*":
        return EntityTags(True, frozenset())
    versions: set[int] = set()
    for match in _ELEMENT.finditer(header):
        tag = match.group(1) if match.group(1) is not None else match.group(2)
        if tag.isascii() and tag.isdigit():
            versions.add(int(tag))
    return EntityTags(False, frozenset(versions))
