"""Exceptions -> gRPC status, in one place per server.

Every gRPC servicer of the suite runs its calls through one `StatusMapping` built from rules (exception
types -> `Failure`); the rules are the boundary's whole error vocabulary. Every server includes
`DATABASE_OUTAGE`, so a database that is down answers UNAVAILABLE on every API, never UNKNOWN. The
directory's SCIM errors become statuses with a typed detail (`scim_failure`), which the edge reads back
(`suite_common.grpc_errors.scim_error_from_rpc`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from scim_core import errors

from suite_common.grpc_errors import detail_metadata, grpc_code_for
from suite_common.pg import CONNECTION_ERRORS

log = logging.getLogger(__name__)
T = TypeVar("T")
# Trailing metadata naming the dependency behind an UNAVAILABLE, so a client can tell "the API is up but
# its database is not" from "the API cannot be reached".
UNAVAILABLE_DEPENDENCY_KEY = "unavailable-dependency"


@dataclass(frozen=True)
class Failure:
    """What a failed call answers: a status code, a message for the caller, optional trailing metadata."""

    code: grpc.StatusCode
    message: str
    trailing: tuple[tuple[str, str | bytes], ...] = ()


Rule = tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[[Any], Failure]]


def scim_failure(error: errors.ScimError) -> Failure:
    """A SCIM verdict: its status, its detail as the message, and the typed detail for the edge."""
    return Failure(grpc_code_for(error), error.detail, detail_metadata(error))


def database_outage(message: str) -> Rule:
    """The rule every server has: the database being down or cut off is UNAVAILABLE with `message`."""

    def failure(exc: BaseException) -> Failure:
        log.warning("database unavailable", exc_info=exc)
        return Failure(grpc.StatusCode.UNAVAILABLE, message, ((UNAVAILABLE_DEPENDENCY_KEY, "database"),))

    return (CONNECTION_ERRORS, failure)


def status(code: grpc.StatusCode) -> Callable[[BaseException], Failure]:
    """A rule's right side for errors whose message is meant for the caller as is."""
    return lambda exc: Failure(code, str(exc))


class StatusMapping:
    """The first rule whose types match wins; an unmatched exception propagates (UNKNOWN, logged by grpc)
    because it is a bug, not a verdict."""

    def __init__(self, *rules: Rule) -> None:
        self.rules = rules

    def failure_for(self, exc: BaseException) -> Failure | None:
        for types, to_failure in self.rules:
            if isinstance(exc, types):
                return to_failure(exc)
        return None

    async def run(self, context: grpc.aio.ServicerContext[Any, Any], call: Callable[[], Awaitable[T]]) -> T:
        """Await `call()`; a mapped exception aborts the RPC with its status."""
        try:
            return await call()
        except Exception as exc:
            failure = self.failure_for(exc)
            if failure is None:
                raise
        if failure.trailing:
            context.set_trailing_metadata(failure.trailing)
        await context.abort(failure.code, failure.message)
        raise AssertionError("unreachable")  # abort always raises
