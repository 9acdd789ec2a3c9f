"""Dead-lettering on JetStream: a copy of the event on the dead-letter stream, then the recorder's turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from suite_common.streams import EventStreams

from portal_actions.domain.dead_letters import DeadLetter


class DeadLetterQueue:
    """The consumer's `dead_letter` callback: publish to the dead-letter stream (deduplicated by event id,
    so a retried dead-lettering leaves one copy), then `record` it (database and audit)."""

    def __init__(
        self, nc: Client, names: EventStreams, record: Callable[[DeadLetter], Awaitable[None]]
    ) -> None:
        self.nc = nc
        self.names = names
        self.record = record

    async def __call__(self, msg: Msg, error: str, deliveries: int) -> None:
        event_id = (msg.headers or {}).get("Nats-Msg-Id", "") or f"seq-{msg.metadata.sequence.stream}"
        await self.nc.jetstream().publish(
            self.names.dead_letter_subject(self.names.suffix_of(msg.subject)),
            msg.data,
            headers={
                "Nats-Msg-Id": f"dlq-{event_id}",
                "Scim-Error": error[:1000],
                "Scim-Original-Subject": msg.subject,
            },
        )
        await self.record(DeadLetter(event_id, msg.subject, msg.data, error, deliveries))
