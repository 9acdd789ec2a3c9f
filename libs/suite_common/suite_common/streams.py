"""The JetStream streams the suite uses, defined once for the publisher and the consumer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventStreams:
    """Stream names and subjects, derived from two settings so that several suites can share one NATS.

    Events go to `<prefix>.events.<portal>.<resource>`; events that could not be applied go to
    `<prefix>.deadletter.<portal>.<resource>` in the stream `<stream>_DEADLETTERS`.
    """

    stream: str = "SCIM_EVENTS"
    prefix: str = "scim"

    @property
    def events_filter(self) -> str:
        return f"{self.prefix}.events.>"

    def event_subject(self, suffix: str) -> str:
        return f"{self.prefix}.events.{suffix}"

    def suffix_of(self, subject: str) -> str:
        return subject.removeprefix(f"{self.prefix}.events.")

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.stream}_DEADLETTERS"

    @property
    def dead_letter_filter(self) -> str:
        return f"{self.prefix}.deadletter.>"

    def dead_letter_subject(self, suffix: str) -> str:
        return f"{self.prefix}.deadletter.{suffix}"


async def ensure_stream(
    js: JetStreamContext, name: str, subjects: list[str], duplicate_window_s: float
) -> None:
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
