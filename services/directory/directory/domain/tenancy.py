"""Who is calling: the SCIM connection a bearer token belongs to."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from scim_core.kinds import PORTAL_NAMES

PORTALS = PORTAL_NAMES
TOKEN_PREFIX = "scim_"


@dataclass(frozen=True)
class ConnectionContext:
    connection_id: str
    workspace_id: str
    portal: str
    custom_schemas: tuple[dict[str, object], ...]
    # Compatibility profile (directory.domain.profiles): what the admin pinned, and the IdP last seen.
    profile: str = "auto"
    detected_idp: str | None = None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def bearer_from_header(value: str) -> str:
    """The token from `Authorization: Bearer <t>` or Okta's Header mode `Authorization: <t>`."""
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer" and rest:
        return rest.strip()
    return value
