"""The suite's words for what it provisions and where: SCIM resource types and the portals.

Both are `StrEnum`s whose values are the wire and storage spellings (RFC 7643 §3 `meta.resourceType`,
the portal names in URLs, events and the database), so a member compares equal to, and serialises as,
the string it replaces.
"""

from __future__ import annotations

from enum import StrEnum


class ResourceKind(StrEnum):
    """RFC 7643 resource types the suite serves (§4.1 User, §4.2 Group)."""

    USER = "User"
    GROUP = "Group"

    @property
    def endpoint(self) -> str:
        """The resource type's endpoint (RFC 7644 §3.2): `Users`, `Groups`."""
        return f"{self.value}s"


class Portal(StrEnum):
    """The products a workspace provisions: each SCIM connection belongs to exactly one."""

    DASHBOARD = "dashboard"
    STORE = "store"
    MDM = "mdm"


PORTAL_NAMES: tuple[str, ...] = tuple(p.value for p in Portal)
