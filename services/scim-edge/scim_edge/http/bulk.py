"""POST /Bulk (RFC 7644 §3.7): many Users/Groups operations in one request.

Limits come first (RFC 7644 §3.7.4, both answered with 413 Payload Too Large): a body larger than
`maxPayloadSize` is refused from its Content-Length before any of it is read, and a chunked body is
cut off as soon as it passes the limit; more than `maxOperations` operations are refused before
any runs. Afterwards every operation succeeds or fails on its own, and the response is 200 with
one result per operation that ran.
"""

from __future__ import annotations

from aiohttp import web
from scim_core.bulk import parse_bulk_request
from scim_core.schema.urns import BULK_RESPONSE_URN
from scimsuite.directory.v1 import directory_pb2

from scim_edge.bulk.execute import execute
from scim_edge.http.context import Call
from scim_edge.http.request_body import read_json
from scim_edge.http.responses import scim_json


async def bulk(request: web.Request, call: Call) -> web.StreamResponse:
    # A bad token fails the whole request with 401 before the body is read, not once per operation.
    await call.directory.call(
        call.directory.stub.DescribeConnection,
        directory_pb2.DescribeConnectionRequest(connection_id=call.connection_id),
        call.authorization,
    )
    settings = call.settings
    body = await read_json(request, settings.bulk_max_payload_bytes)
    parsed = parse_bulk_request(body, max_operations=settings.bulk_max_operations)
    return scim_json({"schemas": [BULK_RESPONSE_URN], "Operations": await execute(call, parsed)})
