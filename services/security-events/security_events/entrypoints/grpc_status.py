"""security-events' errors -> gRPC status, for both of its APIs (SecurityEventsAdmin, SetTransmitter)."""

from __future__ import annotations

import grpc
from suite_common.grpc_status import StatusMapping, database_outage, status

from security_events.errors import AlreadyExists, InvalidRequest, NotFound, PollUnauthorized

# A rejected argument is INVALID_ARGUMENT with a message meant for the admin, an unknown stream or receiver
# NOT_FOUND, a second stream for a connection ALREADY_EXISTS, an unknown poll token UNAUTHENTICATED, and a
# database outage UNAVAILABLE like on every other API of the suite.
API = StatusMapping(
    (InvalidRequest, status(grpc.StatusCode.INVALID_ARGUMENT)),
    (NotFound, status(grpc.StatusCode.NOT_FOUND)),
    (AlreadyExists, status(grpc.StatusCode.ALREADY_EXISTS)),
    (PollUnauthorized, status(grpc.StatusCode.UNAUTHENTICATED)),
    database_outage("the security-events database is unavailable; retry"),
)
