"""Per-IdP compatibility profiles of a SCIM connection (README "Profiles").

A profile changes only what Okta and Entra document differently; input stays liberal and validation and
isolation are the same in every profile. `auto` applies the profile of the identity provider recognised
in the request, else the one last recorded on the connection, else `generic`.
"""

from __future__ import annotations

AUTO, OKTA, ENTRA, GENERIC = "auto", "okta", "entra", "generic"
PROFILES = (AUTO, OKTA, ENTRA, GENERIC)
# What the edge can recognise, and so what `detected_idp` may hold.
IDPS = (OKTA, ENTRA)


def recognised(client: str) -> str | None:
    """The edge's `x-scim-client` value if it names an IdP we know, else None (never trusted further)."""
    value = client.strip().lower()
    return value if value in IDPS else None


def effective_profile(pinned: str, client: str | None, recorded: str | None) -> str:
    """The profile a request is answered with."""
    if pinned != AUTO:
        return pinned
    return client or recorded or GENERIC
