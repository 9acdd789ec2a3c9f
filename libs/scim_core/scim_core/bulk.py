"""/Bulk requests (RFC 7644 §3.7): reading a BulkRequest, ordering its operations, resolving `bulkId`s.

Pure functions only; the edge executes the plan with the directory's API.

* Reading (`parse_bulk_request`): a malformed message fails the whole request, a malformed
  operation fails only that operation (`BulkOperation.error`), so the others still run.
* Ordering (`plan_operations`): an operation that refers to `bulkId:x` runs after the POST that
  declares `bulkId` x, even when that POST comes later in the request (a forward reference,
  RFC 7644 §3.7.2). Otherwise the request order is kept.
* Cycles: RFC 7644 §3.7.1 lets a service provider that cannot resolve circular references stop
  and answer 409 Conflict. Ours does, for every operation on the cycle; operations that only
  depend on a cycle fail with 409 when their turn comes, because their `bulkId` stays unresolved.
* Resolving (`substitute`): every string value that is exactly `bulkId:<id>`, anywhere in an
  operation's data or as a segment of its path, becomes the `id` the server gave that resource.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scim_core.errors import Conflict, InvalidSyntax, InvalidValue, PayloadTooLarge, ScimError
from scim_core.patch.keys import get_ci
from scim_core.schema.urns import BULK_REQUEST_URN

BULK_ID_PREFIX = "bulkId:"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class BulkOperation:
    """One entry of `Operations`. `error` is set when the entry cannot run as written."""

    index: int
    method: str
    path: str
    bulk_id: str | None = None
    version: str | None = None
    data: Any = None
    error: ScimError | None = None


@dataclass(frozen=True)
class BulkRequest:
    operations: tuple[BulkOperation, ...]
    fail_on_errors: int | None


@dataclass(frozen=True)
class Plan:
    """The order to run the operations in, and the ones that must fail without running.

    `steps` lists every operation index once: dependencies first, then those caught in a cycle
    (or behind one), in request order.
    """

    steps: tuple[int, ...]
    failures: Mapping[int, ScimError] = field(default_factory=dict)


def parse_bulk_request(body: Any, *, max_operations: int) -> BulkRequest:
    """Read a BulkRequest message; raise for a malformed message or too many operations.

    RFC 7644 §3.7.4: more operations than `maxOperations` is answered with 413 Payload Too Large.
    """
    if not isinstance(body, dict):
        raise InvalidSyntax("the BulkRequest body must be a JSON object")
    schemas = get_ci(body, "schemas")
    if not isinstance(schemas, list) or BULK_REQUEST_URN.lower() not in {
        s.lower() for s in schemas if isinstance(s, str)
    }:
        raise InvalidSyntax(f"schemas must contain {BULK_REQUEST_URN}")
    operations = get_ci(body, "Operations")
    if not isinstance(operations, list):
        raise InvalidSyntax("Operations must be an array")
    if len(operations) > max_operations:
        raise PayloadTooLarge(
            f"the request has {len(operations)} operations; maxOperations is {max_operations}"
        )
    fail_on_errors = get_ci(body, "failOnErrors")
    if fail_on_errors is not None and (
        isinstance(fail_on_errors, bool) or not isinstance(fail_on_errors, int) or fail_on_errors < 1
    ):
        raise InvalidValue("failOnErrors must be a positive integer")
    return BulkRequest(tuple(_operation(raw, i) for i, raw in enumerate(operations)), fail_on_errors)


def _operation(raw: Any, index: int) -> BulkOperation:
    if not isinstance(raw, dict):
        return BulkOperation(index, "", "", error=InvalidSyntax(f"Operations[{index}] must be an object"))
    method = get_ci(raw, "method")
    path = get_ci(raw, "path")
    bulk_id = get_ci(raw, "bulkId")
    version = get_ci(raw, "version")
    data = get_ci(raw, "data")
    method = method.upper() if isinstance(method, str) else ""
    op = BulkOperation(
        index,
        method,
        path if isinstance(path, str) else "",
        bulk_id if isinstance(bulk_id, str) and bulk_id else None,
        version if isinstance(version, str) else None,
        data,
    )
    error = _structural_error(op, raw)
    return (
        op
        if error is None
        else BulkOperation(op.index, op.method, op.path, op.bulk_id, op.version, op.data, error)
    )


def _structural_error(op: BulkOperation, raw: dict[str, Any]) -> ScimError | None:
    where = f"Operations[{op.index}]"
    if op.method not in METHODS:
        return InvalidValue(f"{where}.method must be one of POST, PUT, PATCH, DELETE")
    if not op.path:
        return InvalidSyntax(f"{where}.path is required")
    bulk_id = get_ci(raw, "bulkId")
    if bulk_id is not None and (not isinstance(bulk_id, str) or not bulk_id):
        return InvalidValue(f"{where}.bulkId must be a non-empty string")
    if op.method == "POST" and op.bulk_id is None:
        return InvalidSyntax(f"{where}.bulkId is required with POST (RFC 7644 §3.7)")
    if op.method != "DELETE" and not isinstance(op.data, dict):
        return InvalidSyntax(f"{where}.data must be an object with {op.method}")
    return None


def references(value: Any) -> frozenset[str]:
    """The bulkIds that `value` (an operation's data, or a path) refers to."""
    return frozenset(_refs(value))


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        for segment in value.split("/"):
            if segment.startswith(BULK_ID_PREFIX) and len(segment) > len(BULK_ID_PREFIX):
                yield segment[len(BULK_ID_PREFIX) :]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def operation_references(op: BulkOperation) -> frozenset[str]:
    return references(op.path) | references(op.data)


def substitute(value: Any, ids: Mapping[str, str]) -> Any:
    """`value` with every `bulkId:<x>` replaced by `ids[x]`.

    Raises `Conflict` (409, as RFC 7644 §3.7.1 answers an unresolvable reference) when `x` has no
    id, which happens when the operation that declares it failed.
    """
    if isinstance(value, str):
        if BULK_ID_PREFIX not in value:
            return value
        return "/".join(_resolve(segment, ids) for segment in value.split("/"))
    if isinstance(value, dict):
        return {k: substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, ids) for v in value]
    return value


def _resolve(segment: str, ids: Mapping[str, str]) -> str:
    if not segment.startswith(BULK_ID_PREFIX) or len(segment) == len(BULK_ID_PREFIX):
        return segment
    bulk_id = segment[len(BULK_ID_PREFIX) :]
    resolved = ids.get(bulk_id)
    if resolved is None:
        raise Conflict(f"bulkId {bulk_id!r} could not be resolved: the operation that declares it failed")
    return resolved


def plan_operations(operations: Sequence[BulkOperation]) -> Plan:
    """Order `operations` so that each runs after the POSTs whose bulkIds it refers to."""
    failures: dict[int, ScimError] = {}
    declared: dict[str, int] = {}
    for op in operations:
        if op.error is not None:
            failures[op.index] = op.error
        if op.method == "POST" and op.bulk_id is not None:
            if op.bulk_id in declared:
                failures.setdefault(
                    op.index,
                    InvalidValue(
                        f"bulkId {op.bulk_id!r} is already declared by Operations[{declared[op.bulk_id]}]"
                    ),
                )
            else:
                # Declared even when the operation is malformed: its dependents then fail with 409
                # ("could not be resolved") rather than with a misleading "not declared".
                declared[op.bulk_id] = op.index
    depends: dict[int, set[int]] = {}
    for op in operations:
        needs: set[int] = set()
        for ref in sorted(operation_references(op)):
            if ref not in declared:
                failures.setdefault(
                    op.index,
                    InvalidValue(f"bulkId {ref!r} is not declared by any POST operation of this request"),
                )
            else:
                needs.add(declared[ref])
        depends[op.index] = needs
    cyclic = _on_cycles(depends)
    for index in sorted(cyclic):
        failures.setdefault(
            index,
            Conflict(
                f"Operations[{index}] is part of a circular chain of bulkId references (RFC 7644 §3.7.1)"
            ),
        )
    return Plan(_order(depends, cyclic), failures)


def _order(depends: Mapping[int, set[int]], cyclic: set[int]) -> tuple[int, ...]:
    """Kahn's algorithm, smallest index first among the ready ones; the rest follow in index order."""
    waiting = {i: len(d) for i, d in depends.items()}
    dependents: dict[int, list[int]] = {i: [] for i in depends}
    for i, needs in depends.items():
        for j in needs:
            dependents[j].append(i)
    ready = [i for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    steps: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        steps.append(i)
        for k in dependents[i]:
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(ready, k)
    done = set(steps)
    steps += sorted(i for i in depends if i not in done)
    return tuple(steps)


def _on_cycles(depends: Mapping[int, set[int]]) -> set[int]:
    """Operations on a dependency cycle: strongly connected components of more than one
    operation, or one that refers to itself (iterative Tarjan, so 1000 operations need no recursion)."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    cyclic: set[int] = set()
    counter = 0
    for root in sorted(depends):
        if root in index_of:
            continue
        work: list[tuple[int, Iterator[int]]] = []
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter(sorted(depends[root]))))
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(depends[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index_of[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in depends[node]:
                    cyclic.update(component)
    return cyclic
