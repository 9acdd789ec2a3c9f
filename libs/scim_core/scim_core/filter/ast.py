"""The abstract syntax of RFC 7644 §3.4.2.2 filters.

Every node is a frozen dataclass, so trees compare by value, hash, and can be shared between
requests. Attribute names keep the spelling the client used; resolving them against a schema
(RFC 7643 §2.1: names are case-insensitive) is the consumer's job.

Inside a `ValuePath` filter, paths are relative to one element of the multi-valued attribute:
in `emails[type eq "work"]` the inner path is `AttrPath(None, "type", None)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

CompareOp: TypeAlias = Literal["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]
COMPARE_OPS: frozenset[str] = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})

# RFC 7644 §3.4.2.2 `compValue`: a JSON string, number, true, false or null.
Value: TypeAlias = str | int | float | bool | None


@dataclass(frozen=True)
class AttrPath:
    """RFC 7644 §3.4.2.2 `attrPath = [URI ":"] ATTRNAME *1subAttr`."""

    urn: str | None
    attr: str
    sub_attr: str | None = None

    def __str__(self) -> str:
        text = f"{self.urn}:{self.attr}" if self.urn else self.attr
        return f"{text}.{self.sub_attr}" if self.sub_attr else text


@dataclass(frozen=True)
class Compare:
    """`attrPath SP compareOp SP compValue`; `op` is always lowercase."""

    path: AttrPath
    op: CompareOp
    value: Value


@dataclass(frozen=True)
class Present:
    """`attrPath SP "pr"`: the attribute has a non-empty value."""

    path: AttrPath


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    """`"not" "(" FILTER ")"`."""

    expr: Expr


@dataclass(frozen=True)
class ValuePath:
    """`attrPath "[" valFilter "]"`: some element of a multi-valued attribute matches `filter`.

    The Entra form `emails[type eq "work"].value eq "x"` is represented as
    `ValuePath(emails, And(type eq "work", value eq "x"))`: one element must satisfy both.
    """

    path: AttrPath
    filter: Expr


Expr: TypeAlias = Compare | Present | And | Or | Not | ValuePath
