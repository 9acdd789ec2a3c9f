"""The directory's gRPC listeners: the data API for the edge and, optionally apart, the admin API.

With `DIRECTORY_ADMIN_LISTEN` set, DirectoryAdmin listens on its own port and the data port does not
serve it at all, so a NetworkPolicy can let scim-edge reach the data port while the admin port stays
reachable only from operators' tools. Left empty (local runs, tests), one port serves both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import grpc

# Clients balance per call across the addresses DNS gives them, and re-resolve only when a connection
# ends; capping a connection's age makes edges discover new directory replicas after a scale-up.
SERVER_OPTIONS = (
    ("grpc.so_reuseport", 0),
    ("grpc.max_connection_age_ms", 300_000),
    ("grpc.max_connection_age_grace_ms", 30_000),
    # The edge pings idle connections every 20 s; gRPC's default 5-minute minimum would answer that with
    # GOAWAY "too_many_pings" and the next request would fail with 503.
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # A group of 100,000 members is ~10 MB of JSON; gRPC's 4 MB default would refuse to send it.
    ("grpc.max_send_message_length", 128 * 1024 * 1024),
    ("grpc.max_receive_message_length", 128 * 1024 * 1024),
)


class GrpcServers:
    """`admin_interceptors` (the admin credential check) run only on the server that serves the admin API,
    so with a separate admin port the data API's calls never meet them."""

    def __init__(
        self,
        interceptors: Sequence[grpc.aio.ServerInterceptor[Any, Any]],
        separate_admin: bool,
        admin_interceptors: Sequence[grpc.aio.ServerInterceptor[Any, Any]] = (),
    ) -> None:
        with_admin = [*interceptors, *admin_interceptors]
        if separate_admin:
            self.data = grpc.aio.server(interceptors=interceptors, options=SERVER_OPTIONS)
            self.admin = grpc.aio.server(interceptors=with_admin, options=SERVER_OPTIONS)
        else:
            self.data = self.admin = grpc.aio.server(interceptors=with_admin, options=SERVER_OPTIONS)

    @property
    def all(self) -> list[grpc.aio.Server]:
        return [self.data] if self.admin is self.data else [self.data, self.admin]

    def bind(self, data_listen: str, admin_listen: str) -> tuple[int, int]:
        """Bind the ports; returns (data port, admin port), equal when the admin API shares the data port."""
        data_port = self.data.add_insecure_port(data_listen)
        admin_port = self.admin.add_insecure_port(admin_listen) if self.admin is not self.data else data_port
        return data_port, admin_port

    async def start(self) -> None:
        for server in self.all:
            await server.start()

    async def stop(self, grace_s: float) -> None:
        """Refuse new calls at once and give in-flight calls `grace_s` to finish."""
        await asyncio.gather(*(server.stop(grace_s) for server in self.all))
