"""Stored rows to SCIM representations (RFC 7643 §3.1: id, meta, schemas), without the public URL.

The edge adds `meta.location` and member/group `$ref`s, since only it knows the external base URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scim_core.schema import GROUP_URN, USER_URN


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def etag(version: int) -> str:
    return f'W/"{version}"'


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
        "version": etag(row["version"]),
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
