"""The directory accepts the edge's keepalive pings: its minimum ping interval, under the key gRPC core
reads, is shorter than the edge's ping period. Otherwise an idle connection ends in GOAWAY too_many_pings
and the next SCIM request on it fails with 503 (gRPC ignores an unknown option key without a word)."""

from __future__ import annotations

from directory.entrypoints.grpc_servers import SERVER_OPTIONS
from scim_edge.adapters.directory_client import CHANNEL_OPTIONS


def test_the_directory_allows_the_edge_keepalive_period() -> None:
    ping_period = dict(CHANNEL_OPTIONS)["grpc.keepalive_time_ms"]
    server = dict(SERVER_OPTIONS)
    assert isinstance(ping_period, int)
    assert server["grpc.http2.min_ping_interval_without_data_ms"] < ping_period
    assert server["grpc.keepalive_permit_without_calls"] == 1
