"""Stored rows to SCIM representations (RFC 7643 §3.1: id, meta, schemas), without the public URL.

The edge adds `meta.location` and member/group `$ref`s, since only it knows the external base URL.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from scim_core.schema import GROUP_URN, USER_URN


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def etag(version: int) -> str:
    return f'W/"{version}"'


# User versions at or above this bit are derived from membership stamps; plain versions stay below it.
_WITH_GROUPS = 1 << 62


def user_version(row: Any) -> int:
    """The number in a User's ETag (RFC 7644 §3.14): it changes whenever the representation does,
    `groups` included.

    A user in no group has its row version. Otherwise the number is a digest of the user's stamp and the
    count, sum and maximum of its membership stamps (users.COLUMNS), tagged with bit 62 so it never equals
    a plain version: an update, a group joined or left, or a group renamed all change it, while a
    membership change writes only membership rows. If-Match compares the same number, in the write's
    transaction.
    """
    count, total, top = row["membership_stamp"]
    if not count:
        return int(row["version"])
    digest = hashlib.blake2b(f"{row['stamp']}:{count}:{total}:{top}".encode(), digest_size=8).digest()
    return _WITH_GROUPS | (int.from_bytes(digest, "big") & (_WITH_GROUPS - 1))


def _schemas(doc: dict[str, Any], core: str) -> list[str]:
    return [core, *sorted(k for k in doc if k.startswith("urn:") and isinstance(doc[k], dict))]


def user_representation(row: Any, groups: list[dict[str, str]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = dict(row["doc"])
    out: dict[str, Any] = {"schemas": _schemas(doc, USER_URN), "id": str(row["id"])}
    out.update(doc)
    out["userName"] = row["user_name"]
    # A PATCH `remove` of `active` leaves it unassigned (RFC 7644 §3.5.2.2); the column still holds the
    # effective status, which is active unless the client said otherwise.
    if "active" in doc:
        out["active"] = row["active"]
    if groups is not None:
        out["groups"] = groups
    out["meta"] = {
        "resourceType": "User",
        "created": _iso(row["created_at"]),
        "lastModified": _iso(row["last_modified"]),
        "version": etag(user_version(row)),
    }
    return out


def group_representation(row: Any, members: list[dict[str, str]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = dict(row["doc"])
    doc.pop("members", None)
    out: dict[str, Any] = {"schemas": _schemas(doc, GROUP_URN), "id": str(row["id"])}
    out.update(doc)
    out["displayName"] = row["display_name"]
    if members is not None:
        out["members"] = members
    out["meta"] = {
        "resourceType": "Group",
        "created": _iso(row["created_at"]),
        "lastModified": _iso(row["last_modified"]),
        "version": etag(row["version"]),
    }
    return out
