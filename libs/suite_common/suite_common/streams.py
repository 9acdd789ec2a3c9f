"""The JetStream streams the suite uses, defined once for the publisher and the consumer."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from suite_common.settings import SettingsError, env_int

log = logging.getLogger(__name__)


# JetStream keeps at most five copies of a stream; an even count tolerates no more failures than one fewer.
MAX_REPLICAS = 5


def replicas_setting(env: Mapping[str, str]) -> int:
    """`EVENTS_STREAM_REPLICAS`: 1 (a single server, the default) up to 5; 3 on a production cluster."""
    replicas = env_int(env, "EVENTS_STREAM_REPLICAS", 1)
    if not 1 <= replicas <= MAX_REPLICAS:
        raise SettingsError(f"EVENTS_STREAM_REPLICAS must be between 1 and {MAX_REPLICAS}, got {replicas}")
    return replicas


@dataclass(frozen=True)
class EventStreams:
    """Stream names and subjects, derived from two settings so that several suites can share one NATS.

    Events go to `<prefix>.events.<portal>.<resource>`; events that could not be applied go to
    `<prefix>.deadletter.<portal>.<resource>` in the stream `<stream>_DEADLETTERS`.
    """

    stream: str = "SCIM_EVENTS"
    prefix: str = "scim"
    # Copies of each stream kept by a JetStream cluster (1 on a single server, 3 in production): an
    # acknowledged publish is on a majority of them, so the loss of any one server loses nothing.
    replicas: int = 1

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
    js: JetStreamContext, name: str, subjects: list[str], duplicate_window_s: float, *, replicas: int = 1
) -> None:
    """Create the stream, or bring an existing one to this configuration (idempotent across replicas).

    A changed replica count is applied to an existing stream too (JetStream moves it in place)."""
    config = StreamConfig(
        name=name,
        subjects=subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=duplicate_window_s,
        max_age=7 * 24 * 3600.0,
        num_replicas=replicas,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)
