"""security-events' gRPC listeners: SetTransmitter for the edge and, optionally apart, the admin API.

With `SECURITY_EVENTS_ADMIN_LISTEN` set, SecurityEventsAdmin listens on its own port and the transmitter
port does not serve it at all (the directory's split, for the same NetworkPolicy reason).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2_grpc
from scimsuite.events_out.v1 import events_out_pb2_grpc
from suite_common.health import HealthServicer

from security_events.entrypoints.grpc_admin import SecurityEventsAdminServicer
from security_events.entrypoints.grpc_transmitter import SetTransmitterServicer


class GrpcServers:
    def __init__(
        self,
        interceptors: Sequence[grpc.aio.ServerInterceptor[Any, Any]],
        admin: SecurityEventsAdminServicer,
        transmitter: SetTransmitterServicer,
        health: HealthServicer,
        *,
        separate_admin: bool,
    ) -> None:
        self.data = grpc.aio.server(interceptors=interceptors)
        self.admin = grpc.aio.server(interceptors=interceptors) if separate_admin else self.data
        events_out_pb2_grpc.add_SetTransmitterServicer_to_server(transmitter, self.data)
        events_out_pb2_grpc.add_SecurityEventsAdminServicer_to_server(admin, self.admin)
        for server in self.all:
            health_pb2_grpc.add_HealthServicer_to_server(health, server)

    @property
    def all(self) -> list[grpc.aio.Server]:
        return [self.data] if self.admin is self.data else [self.data, self.admin]

    def bind(self, listen: str, admin_listen: str) -> None:
        self.data.add_insecure_port(listen)
        if self.admin is not self.data:
            self.admin.add_insecure_port(admin_listen)

    async def start(self) -> None:
        for server in self.all:
            await server.start()

    async def stop(self, grace_s: float) -> None:
        await asyncio.gather(*(server.stop(grace_s) for server in self.all))
