"""Evaluate a PATCH value filter against one element of a multi-valued attribute.

Comparison rules follow RFC 7644 §3.4.2.2: strings compare case-insensitively unless the
sub-attribute is `caseExact`, ordering operators are rejected on booleans, and `pr` means the
sub-attribute has a non-empty value.
"""

from __future__ import annotations

from typing import Any

from scim_core.errors import InvalidFilter
from scim_core.filter.ast import And, AttrPath, Compare, Expr, Not, Or, Present, ValuePath
from scim_core.patch.keys import get_ci
from scim_core.schema.model import Attribute


def matches(expr: Expr, element: Any, attr: Attribute | None) -> bool:
    """Whether `element` (a value of `attr`) satisfies `expr`.

    A simple (non-complex) element is treated as `{"value": element}`: RFC 7643 §2.4 names an
    element's own value `value`, so `x509Certificates[value eq "..."]` works on either shape.
    """
    if not isinstance(element, dict):
        element = {"value": element}
    if isinstance(expr, And):
        return matches(expr.left, element, attr) and matches(expr.right, element, attr)
    if isinstance(expr, Or):
        return matches(expr.left, element, attr) or matches(expr.right, element, attr)
    if isinstance(expr, Not):
        return not matches(expr.expr, element, attr)
    if isinstance(expr, ValuePath):
        raise InvalidFilter("a value filter inside a PATCH value filter is not supported")
    actual = _operand(element, expr.path)
    if isinstance(expr, Present):
        return actual not in (None, "", [], {})
    sub = attr.sub(expr.path.attr) if attr is not None else None
    case_exact = sub.case_exact if sub is not None else False
    candidates = actual if isinstance(actual, list) else [actual]
    return any(_compare(expr, value, case_exact) for value in candidates)


def _operand(element: dict[str, Any], path: AttrPath) -> Any:
    """The value `path` names inside one element; paths there are relative to the element."""
    if path.urn is not None:
        raise InvalidFilter(f"{path} cannot be schema-qualified inside a value filter")
    value = get_ci(element, path.attr)
    if path.sub_attr is not None:
        return get_ci(value, path.sub_attr) if isinstance(value, dict) else None
    return value


def _compare(expr: Compare, actual: Any, case_exact: bool) -> bool:
    expected = expr.value
    if expr.op in ("eq", "ne"):
        return _equal(actual, expected, case_exact) == (expr.op == "eq")
    if isinstance(actual, bool) or isinstance(expected, bool):
        raise InvalidFilter(f"operator {expr.op!r} cannot be used with a boolean")
    if actual is None or expected is None:
        return False
    if isinstance(actual, str) and isinstance(expected, str):
        a, e = (actual, expected) if case_exact else (actual.casefold(), expected.casefold())
        return _ordered(expr.op, a, e)
    if _is_number(actual) and _is_number(expected):
        return _ordered(expr.op, actual, expected)
    return False


def _equal(actual: Any, expected: Any, case_exact: bool) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual == expected if case_exact else actual.casefold() == expected.casefold()
    if isinstance(actual, bool) and isinstance(expected, str):
        # Entra writes booleans as strings elsewhere; a filter `primary eq "true"` means the same.
        return str(actual).lower() == expected.strip().lower()
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    return bool(actual == expected)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ordered(op: str, a: Any, e: Any) -> bool:
    if op == "co":
        return isinstance(a, str) and e in a
    if op == "sw":
        return isinstance(a, str) and a.startswith(e)
    if op == "ew":
        return isinstance(a, str) and a.endswith(e)
    if op == "gt":
        return bool(a > e)
    if op == "ge":
        return bool(a >= e)
    if op == "lt":
        return bool(a < e)
    return bool(a <= e)
