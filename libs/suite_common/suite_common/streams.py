"""The JetStream streams the suite uses, defined once for the publisher and the consumer."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

log = logging.getLogger(__name__)

EVENTS_SUBJECTS = ["scim.events.>"]
DEAD_LETTER_STREAM = "SCIM_DEADLETTERS"
DEAD_LETTER_SUBJECTS = ["scim.deadletter.>"]


async def ensure_stream(js: JetStreamContext, name: str, subjects: list[str], duplicate_window_s: float) -> None:
    """Create the stream, or bring an existing one to this configuration (idempotent across replicas)."""
    config = StreamConfig(
        name=name,
        subjects=subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=duplicate_window_s,
        max_age=7 * 24 * 3600.0,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)
