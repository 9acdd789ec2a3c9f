"""Running a planned BulkRequest: one directory call per operation, in dependency order.

Each operation is its own transaction in the directory, as RFC 7644 §3.7 describes Bulk: an
operation that fails leaves the others applied. `failOnErrors` (§3.7.3) stops the run once that
many operations have failed; the response then lists only the operations that ran.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from scim_core import errors
from scim_core.bulk import BulkOperation, BulkRequest, plan_operations, substitute
from scimsuite.directory.v1 import directory_pb2
from suite_common import jsonutil

from scim_edge.adapters.directory_client import KIND
from scim_edge.bulk.targets import Target, parse_target
from scim_edge.http.context import Call
from scim_edge.scim.query import parse_version

log = logging.getLogger(__name__)

# The directory skips reading memberships for this projection; a bulk result needs only id and version.
_ID_ONLY = directory_pb2.Projection(attributes=["id"])


@dataclass(frozen=True)
class Outcome:
    status: int
    resource_id: str | None = None
    version: int | None = None


async def execute(call: Call, bulk: BulkRequest) -> list[dict[str, Any]]:
    """The BulkResponse `Operations`, in request order."""
    plan = plan_operations(bulk.operations)
    by_index = {op.index: op for op in bulk.operations}
    created: dict[str, str] = {}
    results: dict[int, dict[str, Any]] = {}
    failed = 0
    for index in plan.steps:
        if bulk.fail_on_errors is not None and failed >= bulk.fail_on_errors:
            break
        op = by_index[index]
        result = await _run(call, op, plan.failures.get(index), created)
        results[index] = result
        if int(result["status"]) >= 400:
            failed += 1
    return [results[i] for i in sorted(results)]


async def _run(
    call: Call, op: BulkOperation, failure: errors.ScimError | None, created: dict[str, str]
) -> dict[str, Any]:
    result: dict[str, Any] = {"method": op.method}
    if op.bulk_id is not None:
        result["bulkId"] = op.bulk_id
    try:
        if failure is not None:
            raise failure
        target = parse_target(op.method, substitute(op.path, created))
        if target.resource_id is not None:
            # RFC 7644 §3.7: location is required in a response, except for a failed POST.
            result["location"] = f"{call.base_url}/{target.endpoint}/{target.resource_id}"
        outcome = await _call_directory(call, op, target, substitute(op.data, created))
        if outcome.resource_id is not None:
            result["location"] = f"{call.base_url}/{target.endpoint}/{outcome.resource_id}"
    except errors.ScimError as exc:
        return {**result, "status": str(exc.status), "response": exc.to_error()}
    except Exception:
        incident = uuid.uuid4().hex[:12]
        log.exception("bulk operation failed", extra={"incident": incident, "operation": op.index})
        error = errors.InternalError(f"internal error; incident {incident}")
        return {**result, "status": str(error.status), "response": error.to_error()}
    if op.method == "POST" and op.bulk_id is not None and outcome.resource_id is not None:
        created[op.bulk_id] = outcome.resource_id
    if outcome.version is not None:
        result["version"] = f'W/"{outcome.version}"'
    result["status"] = str(outcome.status)
    return result


def _expected(op: BulkOperation) -> dict[str, Any]:
    """RFC 7644 §3.7: an operation's `version` is its If-Match."""
    version = parse_version(op.version)
    return {} if version is None else {"expected_version": version}


async def _call_directory(call: Call, op: BulkOperation, target: Target, data: Any) -> Outcome:
    stub, cid, kind = call.directory.stub, call.connection_id, KIND[target.kind]
    request_id = f"{call.request_id}#{op.index}"
    if op.method == "DELETE":
        await call.directory.call(
            stub.DeleteResource,
            directory_pb2.DeleteResourceRequest(
                connection_id=cid,
                resource_type=kind,
                id=target.resource_id or "",
                request_id=request_id,
                **_expected(op),
            ),
            call.authorization,
        )
        return Outcome(204)
    if op.method == "POST":
        reply = await call.directory.call(
            stub.CreateResource,
            directory_pb2.CreateResourceRequest(
                connection_id=cid,
                resource_type=kind,
                resource_json=jsonutil.dumps(data),
                request_id=request_id,
                projection=_ID_ONLY,
            ),
            call.authorization,
        )
        return Outcome(201, str(jsonutil.loads(reply.resource_json)["id"]), reply.version)
    if op.method == "PUT":
        reply = await call.directory.call(
            stub.ReplaceResource,
            directory_pb2.ReplaceResourceRequest(
                connection_id=cid,
                resource_type=kind,
                id=target.resource_id or "",
                resource_json=jsonutil.dumps(data),
                request_id=request_id,
                projection=_ID_ONLY,
                **_expected(op),
            ),
            call.authorization,
        )
        return Outcome(200, target.resource_id, reply.version)
    reply = await call.directory.call(
        stub.PatchResource,
        directory_pb2.PatchResourceRequest(
            connection_id=cid,
            resource_type=kind,
            id=target.resource_id or "",
            patch_json=jsonutil.dumps(data),
            request_id=request_id,
            projection=_ID_ONLY,
            **_expected(op),
        ),
        call.authorization,
    )
    return Outcome(200, target.resource_id, reply.version)
