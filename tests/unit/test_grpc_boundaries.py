"""The gRPC boundaries map errors in one place each: the edge turns a directory that ran out of time into
a 504 and an unreachable one into a 503 (RFC 7644 §3.12 bodies); a StatusMapping answers mapped errors
with their status and lets a bug through as itself."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from scim_core import errors
from scim_edge.adapters.directory_client import DirectoryClient
from suite_common.grpc_status import Failure, StatusMapping, status


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
