"""The gRPC boundaries map errors in one place each: the edge turns a directory that ran out of time into
a 504 and an unreachable one into a 503 (RFC 7644 §3.12 bodies); a StatusMapping answers mapped errors
with their status and lets a bug through as itself."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from portal_actions.entrypoints.grpc_console import ConsolePortalServicer
from scim_core import errors
from scim_edge.adapters.directory_client import DirectoryClient
from scimsuite.console.v1 import console_pb2
from suite_common.grpc_status import UNAVAILABLE_DEPENDENCY_KEY, Failure, StatusMapping, status


def _failing(code: grpc.StatusCode) -> Any:
    async def method(request: Any, **_: Any) -> Any:
        raise grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "boom", None)

    return method


@pytest.mark.parametrize(
    "code, expected",
    [
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.CANCELLED, 503),
    ],
)
async def test_the_edge_maps_a_failed_directory_call_to_a_scim_status(
    code: grpc.StatusCode, expected: int
) -> None:
    client = DirectoryClient("127.0.0.1:1", timeout_s=1.0)
    try:
        with pytest.raises(errors.Unavailable) as raised:
            await client.call(_failing(code), None, "Bearer x")
    finally:
        await client.close()
    assert raised.value.status == expected
    assert raised.value.to_error()["status"] == str(expected)


class _Context:
    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None
        self.trailing: Any = None

    def set_trailing_metadata(self, trailing: Any) -> None:
        self.trailing = trailing

    async def abort(self, code: grpc.StatusCode, message: str) -> None:
        self.aborted = (code, message)
        raise grpc.aio.AbortError()


class Rejected(Exception):
    pass


MAPPING = StatusMapping(
    (Rejected, status(grpc.StatusCode.INVALID_ARGUMENT)),
    (LookupError, lambda exc: Failure(grpc.StatusCode.NOT_FOUND, "gone", (("why", "deleted"),))),
)


async def test_a_mapped_error_aborts_with_its_status_and_trailing_metadata() -> None:
    for exc, expected, trailing in [
        (Rejected("bad option"), (grpc.StatusCode.INVALID_ARGUMENT, "bad option"), None),
        (KeyError("x"), (grpc.StatusCode.NOT_FOUND, "gone"), (("why", "deleted"),)),
    ]:
        context = _Context()

        async def call(exc: Exception = exc) -> None:
            raise exc

        with pytest.raises(grpc.aio.AbortError):
            await MAPPING.run(context, call)  # type: ignore[arg-type]
        assert context.aborted == expected and context.trailing == trailing


async def test_an_unmapped_error_is_a_bug_and_propagates_as_itself() -> None:
    context = _Context()

    async def call() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await MAPPING.run(context, call)  # type: ignore[arg-type]
    assert context.aborted is None


async def test_a_successful_call_returns_its_result() -> None:
    async def call() -> str:
        return "ok"

    assert await MAPPING.run(_Context(), call) == "ok"  # type: ignore[arg-type]


class _DownPool:
    """A pool whose database cannot be reached: what `acquire` raises while PostgreSQL restarts."""

    def acquire(self) -> Any:
        raise ConnectionRefusedError("connection refused")


async def test_the_consoles_portal_api_maps_errors_like_the_other_admin_apis() -> None:
    # ConsolePortal had a mapping of its own that knew only NOT_FOUND: a database outage came out UNKNOWN,
    # where every other API of the suite answers UNAVAILABLE naming the dependency.
    servicer = ConsolePortalServicer(_DownPool(), None)  # type: ignore[arg-type]
    ws = "0b4c1f0e-4f5e-4c36-9a59-5b0f0e7f8a01"
    database = ((UNAVAILABLE_DEPENDENCY_KEY, "database"),)
    for workspace_id, portal, code, trailing in [
        (ws, "store", grpc.StatusCode.UNAVAILABLE, database),
        ("nope", "store", grpc.StatusCode.NOT_FOUND, None),
        (ws, "nope", grpc.StatusCode.NOT_FOUND, None),
    ]:
        request = console_pb2.GetAccountRequest(workspace_id=workspace_id, portal=portal, user_id=ws)
        context = _Context()
        with pytest.raises(grpc.aio.AbortError):
            await servicer.GetAccount(request, context)  # type: ignore[arg-type]
        assert context.aborted is not None and context.aborted[0] == code, (request, context.aborted)
        assert context.trailing == trailing
