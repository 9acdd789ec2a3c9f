"""What a user event means for the portals, from the user's state before and after it."""

from __future__ import annotations

from enum import Enum


class Transition(Enum):
    # Active now and not before: a first provisioning, or a reactivation.
    ACTIVATED = "activated"
    # Active before and not now: a deactivation (PATCH or PUT `active: false`) or a DELETE of an active user.
    DEACTIVATED = "deactivated"
    # A DELETE of a user already deactivated: the deactivation behaviour already ran.
    DELETED_WHILE_INACTIVE = "deleted-while-inactive"
    # Anything else: a profile change, or a change to a user who stays inactive.
    UPDATED = "updated"


def transition(*, was_active: bool, active: bool, deleted: bool) -> Transition:
    """`was_active` is False for a user the portals have never seen."""
    if active and not was_active:
        return Transition.ACTIVATED
    if was_active and not active:
        return Transition.DEACTIVATED
    if deleted:
        return Transition.DELETED_WHILE_INACTIVE
    return Transition.UPDATED
