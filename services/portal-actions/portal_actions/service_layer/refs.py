"""Checking the references an admin call names: a workspace id and a portal."""

from __future__ import annotations

import uuid

from portal_actions.domain.behaviour import PORTALS, InvalidBehaviour
from portal_actions.errors import NotFound

__all__ = ["NotFound", "portal_ref", "workspace_ref"]


def workspace_ref(ref: str) -> str:
    try:
        return str(uuid.UUID(ref))
    except ValueError as exc:
        raise InvalidBehaviour(f"workspace id {ref!r} is not a UUID") from exc


def portal_ref(portal: str) -> str:
    if portal.lower() not in PORTALS:
        raise InvalidBehaviour(f"unknown portal {portal!r}; choose {', '.join(PORTALS)}")
    return portal.lower()
