"""An event given up on after its last delivery: kept with the reason, for the audit and for replay."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeadLetter:
    event_id: str
    subject: str  # the subject the event was published on
    data: bytes
    error: str
    deliveries: int
