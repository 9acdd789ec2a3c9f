"""The SecurityEventsAdmin servicer. The admin credential (metadata `x-admin-token`) is checked before
any of this runs, by suite_common's `AdminCredentialCheck` interceptor (see bootstrap).

Errors cross the wire through one mapping (`entrypoints.grpc_status.API`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from scimsuite.events_out.v1 import events_out_pb2 as pb
from scimsuite.events_out.v1 import events_out_pb2_grpc

from security_events.entrypoints.grpc_status import API
from security_events.service_layer.admin import StreamAdmin, SubjectSet

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


def jwks_path(stream_id: str) -> str:
    return f"/scim-events/streams/{stream_id}/jwks.json"


def receiver_pb(row: Any, stats: Any | None = None) -> pb.Receiver:
    out = pb.Receiver(
        id=str(row["id"]),
        stream_id=str(row["stream_id"]),
        delivery=row["delivery"],
        endpoint_url=row["endpoint_url"] or "",
        audience=row["audience"],
        events=list(row["events"]),
    )
    if stats is not None:
        out.stats.CopyFrom(
            pb.ReceiverStats(
                pending=stats["pending"],
                delivered=stats["delivered"],
                failed=stats["failed"],
                dead=stats["dead"],
                lag_seconds=float(stats["lag_s"]),
                last_error=stats["last_error"] or "",
            )
        )
    return out


def subject_set_pb(s: SubjectSet) -> pb.SubjectSet:
    return pb.SubjectSet(
        jti=s.jti,
        txn=s.txn,
        receiver_id=s.receiver_id,
        delivery=s.delivery,
        audience=s.audience,
        endpoint_url=s.endpoint_url,
        events=list(s.events),
        state=s.state,
        attempts=s.attempts,
        last_error=s.last_error,
        created_at=s.created_at.isoformat(),
        delivered_at=s.delivered_at.isoformat() if s.delivered_at else "",
    )


class SecurityEventsAdminServicer(events_out_pb2_grpc.SecurityEventsAdminServicer):
    def __init__(self, admin: StreamAdmin) -> None:
        self.admin = admin

    async def _run(self, context: Context, call: Callable[[], Awaitable[T]]) -> T:
        return await API.run(context, call)

    async def _stream(self, stream_id: str) -> pb.Stream:
        row, kids, receivers = await self.admin.stream(stream_id)
        return pb.Stream(
            id=str(row["id"]),
            workspace_id=str(row["workspace_id"]),
            portal=row["portal"],
            alg=row["alg"],
            jwks_path=jwks_path(str(row["id"])),
            kids=kids,
            receivers=[receiver_pb(r["row"], r["stats"]) for r in receivers],
        )

    async def CreateStream(self, request: pb.CreateStreamRequest, context: Context) -> pb.Stream:
        async def call() -> pb.Stream:
            return await self._stream(
                await self.admin.create_stream(request.workspace_id, request.portal, request.alg)
            )

        return await self._run(context, call)

    async def ListStreams(self, request: pb.ListStreamsRequest, context: Context) -> pb.ListStreamsResponse:
        async def call() -> pb.ListStreamsResponse:
            ids = await self.admin.list_streams(request.workspace_id)
            return pb.ListStreamsResponse(streams=[await self._stream(i) for i in ids])

        return await self._run(context, call)

    async def GetStream(self, request: pb.StreamRef, context: Context) -> pb.Stream:
        async def call() -> pb.Stream:
            return await self._stream(request.stream_id)

        return await self._run(context, call)

    async def DeleteStream(self, request: pb.StreamRef, context: Context) -> pb.DeleteStreamResponse:
        async def call() -> pb.DeleteStreamResponse:
            await self.admin.delete_stream(request.stream_id)
            return pb.DeleteStreamResponse()

        return await self._run(context, call)

    async def AddReceiver(self, request: pb.AddReceiverRequest, context: Context) -> pb.AddReceiverResponse:
        async def call() -> pb.AddReceiverResponse:
            new = await self.admin.add_receiver(
                request.stream_id,
                request.delivery,
                request.endpoint_url,
                request.authorization,
                request.audience,
                list(request.events),
            )
            return pb.AddReceiverResponse(receiver=receiver_pb(new.row), poll_token=new.poll_token)

        return await self._run(context, call)

    async def RemoveReceiver(
        self, request: pb.RemoveReceiverRequest, context: Context
    ) -> pb.RemoveReceiverResponse:
        async def call() -> pb.RemoveReceiverResponse:
            await self.admin.remove_receiver(request.receiver_id)
            return pb.RemoveReceiverResponse()

        return await self._run(context, call)

    async def RotateKey(self, request: pb.RotateKeyRequest, context: Context) -> pb.Stream:
        async def call() -> pb.Stream:
            overlap = float(request.overlap_seconds) if request.overlap_seconds else None
            await self.admin.rotate_key(request.stream_id, overlap)
            return await self._stream(request.stream_id)

        return await self._run(context, call)

    async def ListSubjectSets(
        self, request: pb.ListSubjectSetsRequest, context: Context
    ) -> pb.ListSubjectSetsResponse:
        async def call() -> pb.ListSubjectSetsResponse:
            found = await self.admin.subject_sets(
                request.workspace_id, request.portal, request.subject, request.limit
            )
            if found is None:
                return pb.ListSubjectSetsResponse(has_stream=False)
            return pb.ListSubjectSetsResponse(sets=[subject_set_pb(s) for s in found], has_stream=True)

        return await self._run(context, call)
