"""Read a PATCH request body into operations (RFC 7644 §3.5.2).

Structural names are matched case-insensitively: Microsoft asks servers not to require a
case-sensitive match on `op` (Entra sends `Replace`, idp-clients §2.5), and the same leniency is
applied to the `Operations`, `op`, `path` and `value` keys. Unknown keys (Microsoft's Postman suite
adds `"name": "addMember"`) are ignored.
"""

from __future__ import annotations

from typing import Any, cast

from scim_core.errors import InvalidSyntax, InvalidValue
from scim_core.patch.keys import find_key, get_ci
from scim_core.patch.model import OpName, PatchOperation
from scim_core.schema.urns import PATCH_OP_URN

_OPS: frozenset[str] = frozenset({"add", "remove", "replace"})


def parse_patch_request(body: dict[str, Any]) -> list[PatchOperation]:
    """The operations of a PatchOp message, in order.

    `schemas`, when present, must list the PatchOp URN; a body without `schemas` is accepted.
    Raises `InvalidSyntax` for a malformed message, `InvalidValue` for an add/replace without a
    value and `NoTarget` for a remove without a path.
    """
    if not isinstance(body, dict):
        raise InvalidSyntax("the PATCH body must be a JSON object")
    schemas = get_ci(body, "schemas")
    if schemas is not None and (
        not isinstance(schemas, list)
        or PATCH_OP_URN.lower() not in {s.lower() for s in schemas if isinstance(s, str)}
    ):
        raise InvalidSyntax(f"schemas must contain {PATCH_OP_URN}")
    operations = get_ci(body, "Operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("Operations must be a non-empty array")
    return [_operation(raw, index) for index, raw in enumerate(operations)]


def _operation(raw: Any, index: int) -> PatchOperation:
    if not isinstance(raw, dict):
        raise InvalidSyntax(f"Operations[{index}] must be an object")
    op = get_ci(raw, "op")
    if not isinstance(op, str) or op.lower() not in _OPS:
        raise InvalidSyntax(f"Operations[{index}].op must be add, remove or replace, not {op!r}")
    path = get_ci(raw, "path")
    if path is not None and not isinstance(path, str):
        raise InvalidSyntax(f"Operations[{index}].path must be a string")
    name = cast(OpName, op.lower())
    if name != "remove" and find_key(raw, "value") is None:
        raise InvalidValue(f"Operations[{index}] ({name}) needs a value")
    # An empty path is treated as no path, which is what clients mean by it.
    path = path.strip() if path else None
    return PatchOperation(op=name, path=path or None, value=get_ci(raw, "value"))
