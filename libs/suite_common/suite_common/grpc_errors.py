"""The typed error detail that crosses gRPC from the directory to the edge.

The directory maps a SCIM domain error to a gRPC status in exactly one place (`abort_with`), attaching a
`ScimErrorDetail` as binary trailing metadata; the edge turns it back into the same typed error
(`scim_error_from_rpc`). A status without the detail is an infrastructure failure, never a SCIM verdict.
"""

from __future__ import annotations

from typing import Any

import grpc
from scim_core import errors
from scimsuite.directory.v1 import directory_pb2

DETAIL_KEY = "scim-error-bin"

_STATUS_BY_HTTP = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    412: grpc.StatusCode.FAILED_PRECONDITION,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


def grpc_code_for(error: errors.ScimError) -> grpc.StatusCode:
    return _STATUS_BY_HTTP.get(error.status, grpc.StatusCode.INTERNAL)


def detail_metadata(error: errors.ScimError) -> tuple[tuple[str, bytes]]:
    detail = directory_pb2.ScimErrorDetail(
        http_status=error.status, scim_type=error.scim_type or "", detail=error.detail
    )
    return ((DETAIL_KEY, detail.SerializeToString()),)


async def abort_with(context: grpc.aio.ServicerContext[object, object], error: errors.ScimError) -> None:
    context.set_trailing_metadata(detail_metadata(error))
    await context.abort(grpc_code_for(error), error.detail)


def scim_error_from_rpc(exc: grpc.aio.AioRpcError) -> errors.ScimError | None:
    """The typed SCIM error carried by a failed call, or None if the failure carries no detail."""
    entries: Any = exc.trailing_metadata() or ()  # grpc-stubs types metadata entries loosely
    for key, value in entries:
        if key == DETAIL_KEY and isinstance(value, bytes):
            detail = directory_pb2.ScimErrorDetail.FromString(value)
            return errors.error_from(detail.http_status, detail.scim_type or None, detail.detail)
    return None
