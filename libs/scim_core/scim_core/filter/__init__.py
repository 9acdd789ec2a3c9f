"""RFC 7644 §3.4.2.2 filters: the AST and its parser."""

from scim_core.filter.ast import (
    COMPARE_OPS,
    And,
    AttrPath,
    Compare,
    CompareOp,
    Expr,
    Not,
    Or,
    Present,
    Value,
    ValuePath,
)
from scim_core.filter.parser import MAX_DEPTH, MAX_FILTER_LENGTH, parse_filter

__all__ = [
    "COMPARE_OPS",
    "MAX_DEPTH",
    "MAX_FILTER_LENGTH",
    "And",
    "AttrPath",
    "Compare",
    "CompareOp",
    "Expr",
    "Not",
    "Or",
    "Present",
    "Value",
    "ValuePath",
    "parse_filter",
]
