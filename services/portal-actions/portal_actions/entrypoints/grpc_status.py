"""portal-actions' errors -> gRPC status, for its admin APIs (PortalAdmin and the console's ConsolePortal)."""

from __future__ import annotations

import grpc
from suite_common.grpc_status import StatusMapping, database_outage, status

from portal_actions.errors import InvalidRequest, NotFound

# A rejected option or mapping is INVALID_ARGUMENT with a message meant for the admin, an unknown device or
# policy is NOT_FOUND, and a database outage is UNAVAILABLE like on every other API of the suite.
ADMIN_API = StatusMapping(
    (InvalidRequest, status(grpc.StatusCode.INVALID_ARGUMENT)),
    (NotFound, status(grpc.StatusCode.NOT_FOUND)),
    database_outage("the portal database is unavailable; retry"),
)
