"""The SetTransmitter servicer the edge calls for receivers: a stream's JWKS, and RFC 8936 polling.

No admin credential here: the JWKS is public, and a poll authenticates with the receiver's own token.
"""

from __future__ import annotations

from typing import Any

import grpc
from scimsuite.events_out.v1 import events_out_pb2 as pb
from scimsuite.events_out.v1 import events_out_pb2_grpc
from suite_common import jsonutil

from security_events.entrypoints.grpc_status import API
from security_events.service_layer.admin import StreamAdmin
from security_events.service_layer.poll import Poller

Context = grpc.aio.ServicerContext[Any, Any]


class SetTransmitterServicer(events_out_pb2_grpc.SetTransmitterServicer):
    def __init__(self, admin: StreamAdmin, poller: Poller) -> None:
        self.admin = admin
        self.poller = poller

    async def GetJwks(self, request: pb.StreamRef, context: Context) -> pb.GetJwksResponse:
        async def call() -> pb.GetJwksResponse:
            return pb.GetJwksResponse(jwks_json=jsonutil.dumps(await self.admin.jwks(request.stream_id)))

        return await API.run(context, call)

    async def Poll(self, request: pb.PollRequest, context: Context) -> pb.PollResponse:
        async def call() -> pb.PollResponse:
            result = await self.poller.poll(
                request.poll_token,
                list(request.ack),
                {jti: (e.err, e.description) for jti, e in request.set_errs.items()},
                request.max_events if request.HasField("max_events") else -1,
                request.return_immediately,
            )
            return pb.PollResponse(sets=result.sets, more_available=result.more_available)

        return await API.run(context, call)
