"""The security-events service's SetTransmitter API, for the edge's JWKS and RFC 8936 poll endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from scimsuite.events_out.v1 import events_out_pb2 as pb
from scimsuite.events_out.v1 import events_out_pb2_grpc

_UNAVAILABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}


class TransmitterUnavailable(Exception):
    pass


class UnknownStream(Exception):
    pass


class PollUnauthorized(Exception):
    pass


@dataclass(frozen=True)
class PollAnswer:
    sets: dict[str, str]
    more_available: bool


class SecurityEventsClient:
    def __init__(self, address: str, timeout_s: float, long_poll_timeout_s: float) -> None:
        self.channel = grpc.aio.insecure_channel(address, options=[("grpc.keepalive_time_ms", 20000)])
        self.stub = events_out_pb2_grpc.SetTransmitterStub(self.channel)
        self.timeout_s = timeout_s
        self.long_poll_timeout_s = long_poll_timeout_s

    async def close(self) -> None:
        await self.channel.close(grace=None)

    async def jwks(self, stream_id: str) -> bytes:
        try:
            reply = await self.stub.GetJwks(pb.StreamRef(stream_id=stream_id), timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise UnknownStream(stream_id) from exc
            raise TransmitterUnavailable(str(exc.details())) from exc
        return bytes(reply.jwks_json)

    async def poll(
        self,
        token: str,
        ack: list[str],
        set_errs: dict[str, tuple[str, str]],
        max_events: int | None,
        return_immediately: bool,
    ) -> PollAnswer:
        request = pb.PollRequest(
            poll_token=token,
            ack=ack,
            set_errs={jti: pb.SetError(err=e, description=d) for jti, (e, d) in set_errs.items()},
            return_immediately=return_immediately,
        )
        if max_events is not None:
            request.max_events = max_events
        try:
            reply = await self.stub.Poll(request, timeout=self.long_poll_timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise PollUnauthorized() from exc
            if exc.code() in _UNAVAILABLE:
                raise TransmitterUnavailable(str(exc.details())) from exc
            raise
        return PollAnswer(dict(reply.sets), reply.more_available)
