"""Discovery endpoints (RFC 7644 §4): what this server supports, derived from the running code."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from scim_core import errors
from scim_core.schema import GROUP_RESOURCE, LIST_RESPONSE_URN, USER_RESOURCE, ResourceSchema, Schema
from scim_core.schema import resource_with_extensions as extend
from scim_core.schema.urns import SPC_URN
from scimsuite.directory.v1 import directory_pb2
from suite_common import jsonutil

from scim_edge.http.context import Call
from scim_edge.http.responses import scim_json


async def _describe(call: Call) -> directory_pb2.DescribeConnectionResponse:
    return await call.directory.call(
        call.directory.stub.DescribeConnection,
        directory_pb2.DescribeConnectionRequest(connection_id=call.connection_id),
        call.authorization,
    )


async def _resources(call: Call) -> list[ResourceSchema]:
    reply = await _describe(call)
    custom = tuple(Schema.from_schema_json(s) for s in jsonutil.loads(reply.custom_schemas_json or b"[]"))
    return [extend(USER_RESOURCE, custom), GROUP_RESOURCE]


def _list(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": len(resources),
        "startIndex": 1,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


async def service_provider_config(call: Call) -> web.Response:
    connection = await _describe(call)  # also authenticates the caller for this connection
    s = call.settings
    # RFC 9865: cursors are offered when the directory seals them; index paging stays the default.
    pagination: dict[str, Any] = {
        "cursor": connection.cursor_timeout_seconds > 0,
        "index": True,
        "defaultPaginationMethod": "index",
        "defaultPageSize": s.default_count,
        "maxPageSize": s.max_results,
    }
    if connection.cursor_timeout_seconds > 0:
        pagination["cursorTimeout"] = connection.cursor_timeout_seconds
    return scim_json(
        {
            "schemas": [SPC_URN],
            "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
            "patch": {"supported": True},
            "bulk": {
                "supported": True,
                "maxOperations": s.bulk_max_operations,
                "maxPayloadSize": s.bulk_max_payload_bytes,
            },
            "filter": {"supported": True, "maxResults": s.max_results},
            "changePassword": {"supported": False},
            "sort": {"supported": True},
            "etag": {"supported": True},
            "pagination": pagination,
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "The bearer token issued when SCIM was enabled for the portal.",
                    "specUri": "https://www.rfc-editor.org/info/rfc6750",
                    "primary": True,
                }
            ],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": f"{call.base_url}/ServiceProviderConfig",
            },
        }
    )


async def resource_types(call: Call, name: str | None) -> web.Response:
    docs = [r.to_resource_type_json(call.base_url) for r in await _resources(call)]
    if name is None:
        return scim_json(_list(docs))
    found = next((d for d in docs if d["id"].lower() == name.lower()), None)
    if found is None:
        raise errors.NotFound(f"no resource type {name!r}")
    return scim_json(found)


async def schemas(call: Call, schema_id: str | None) -> web.Response:
    seen: dict[str, Schema] = {}
    for resource in await _resources(call):
        for schema in (resource.core, *resource.extensions):
            seen.setdefault(schema.id.lower(), schema)
    docs = [s.to_schema_json(call.base_url) for s in seen.values()]
    if schema_id is None:
        return scim_json(_list(docs))
    found = next((d for d in docs if d["id"].lower() == schema_id.lower()), None)
    if found is None:
        raise errors.NotFound(f"no schema {schema_id!r}")
    return scim_json(found)
