"""The directory's errors -> gRPC status: the whole vocabulary of its two APIs, in one place each."""

from __future__ import annotations

import logging

import asyncpg
import grpc
from scim_core import errors
from suite_common.grpc_status import Failure, StatusMapping, database_outage, scim_failure, status
from suite_common.pg import CONNECTION_ERRORS

from directory.errors import AlreadyExists, InvalidRequest, NotFound

log = logging.getLogger(__name__)


def _busy(exc: BaseException) -> Failure:
    return scim_failure(errors.Unavailable("the resource is busy; retry"))


def _database_down(exc: BaseException) -> Failure:
    log.warning("database unavailable", exc_info=exc)
    return scim_failure(errors.Unavailable("the directory database is unavailable"))


# DirectoryService: SCIM verdicts carry their typed detail; a lock wait that timed out and a database
# outage are SCIM 503s the client retries (RFC 7644 §3.12).
DATA_API = StatusMapping(
    (errors.ScimError, scim_failure),
    (asyncpg.LockNotAvailableError, _busy),
    (CONNECTION_ERRORS, _database_down),
)

# DirectoryAdmin: messages for the operator; a database outage is UNAVAILABLE here too.
ADMIN_API = StatusMapping(
    (InvalidRequest, status(grpc.StatusCode.INVALID_ARGUMENT)),
    (NotFound, status(grpc.StatusCode.NOT_FOUND)),
    (AlreadyExists, status(grpc.StatusCode.ALREADY_EXISTS)),
    (asyncpg.LockNotAvailableError, lambda exc: Failure(grpc.StatusCode.UNAVAILABLE, "busy; retry")),
    database_outage("the directory database is unavailable; retry"),
)
