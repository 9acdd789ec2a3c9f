"""Per-resource order of directory events, as the portal applies them.

The directory numbers each resource's events with consecutive versions (created = 1, then +1 per change,
the deletion included). JetStream can hand them over out of order: a fetched batch is applied
concurrently, replicas fetch side by side, and after a consumer dies its unacked events come back only
when their ack wait expires, behind their successors. Applying v3 before v2 keeps the final state (v2 is
then dropped as stale) but loses v2's transition: a deactivation followed by a reactivation would never
remove the account. So an event whose predecessor is not applied yet is put back until it is.

The wait is bounded by the consumer: a predecessor that can never come (dead-lettered as poison, or aged
out of the stream) must not block its resource forever.
"""

from __future__ import annotations


class PredecessorPending(Exception):
    """The event's predecessor has not been applied yet; redeliver the event shortly."""

    def __init__(self, resource_id: str, applied_version: int, version: int) -> None:
        super().__init__(f"{resource_id}: version {version} waits for {applied_version + 1}")
        self.resource_id = resource_id
        self.applied_version = applied_version
        self.version = version


def require_predecessor(resource_id: str, applied_version: int, version: int) -> None:
    """Raise unless `version` directly follows the last applied one (or is not newer: stale is fine)."""
    if version > applied_version + 1:
        raise PredecessorPending(resource_id, applied_version, version)
