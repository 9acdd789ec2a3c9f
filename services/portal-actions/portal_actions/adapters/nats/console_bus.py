"""The console's view of JetStream: the durable consumer's lag."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.client import Client
from nats.js.errors import NotFoundError


class BusUnavailable(RuntimeError):
    """NATS is not connected (yet, or any more)."""


@dataclass(frozen=True)
class Lag:
    pending: int
    ack_pending: int


@dataclass
class ConsoleBus:
    """Attached to the NATS connection once portal-actions has one (the gRPC server starts first)."""

    stream: str
    durable: str
    nc: Client | None = None

    def _connected(self) -> Client:
        if self.nc is None or not self.nc.is_connected:
            raise BusUnavailable("NATS is not connected; try again")
        return self.nc

    async def lag(self) -> Lag | None:
        """None until the durable consumer exists, or while NATS is unreachable."""
        try:
            nc = self._connected()
            info = await nc.jetstream().consumer_info(self.stream, self.durable)
        except (BusUnavailable, NotFoundError):
            return None
        return Lag(info.num_pending or 0, info.num_ack_pending or 0)
