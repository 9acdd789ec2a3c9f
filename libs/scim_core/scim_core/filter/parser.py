"""Parse RFC 7644 §3.4.2.2 filters (and §3.5.2 PATCH paths) into the AST of `scim_core.filter.ast`.

The grammar is the RFC's ABNF with the usual precedence (not > and > or), plus two leniencies
real clients need:

* a comparison value may be a bare word (`externalId eq jyoung`, `meta.created gt
  2015-10-10T14:38:21.8617979-07:00`), read up to whitespace, `)` or `]`; Microsoft's SCIM
  validator sends these;
* a value path may be followed by a sub-attribute comparison (`emails[type eq "work"].value
  eq "x"`), which Entra sends; it means one element satisfies both conditions.

ABNF literals are case-insensitive (RFC 5234 §2.3), so operators, `and`/`or`/`not` and
`true`/`false`/`null` are too. The LALR parser with a contextual lexer only offers the
terminals valid at each position, which is what lets a bare value such as `and` or `2015-10-10`
be read as a value after an operator without clashing with keywords or numbers elsewhere.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from scim_core.errors import InvalidFilter
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

# Longer filters are refused before parsing: no client needs them and they only cost CPU.
MAX_FILTER_LENGTH = 10_000
# Nesting beyond this is refused so that recursive consumers of the tree stay far from Python's
# recursion limit. and/or chains are folded into balanced trees, so a long chain of `or` terms
# costs only log2(n) levels.
MAX_DEPTH = 64

_NAME = r"[A-Za-z$][A-Za-z0-9_$-]*"
# RFC 7644 §3.10: the URN is everything up to the last colon before the attribute name.
# The greedy URN group backtracks to exactly that colon; names contain no colon or dot.
_URN = r"[A-Za-z][A-Za-z0-9.:_+-]*"
_ATTR_PATH_RE = re.compile(rf"(?:(?P<urn>{_URN}):)?(?P<attr>{_NAME})(?:\.(?P<sub>{_NAME}))?")
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# A keyword ends where a name character could not continue it.
_END = r"(?![A-Za-z0-9_$-])"

_GRAMMAR = rf"""
    filter: or_expr
    patch_path: ATTRPATH (_LSQB or_expr _RSQB SUBATTR?)?

    ?or_expr: and_expr (_OR and_expr)*
    ?and_expr: unary (_AND unary)*
    ?unary: _NOT _LPAR or_expr _RPAR   -> negation
          | _LPAR or_expr _RPAR
          | ATTRPATH PR                -> present
          | ATTRPATH OP VALUE          -> compare
          | value_path
    value_path: ATTRPATH _LSQB or_expr _RSQB (SUBATTR (PR | OP VALUE))?

    ATTRPATH: /(?:{_URN}:)?{_NAME}(?:\.{_NAME})?/
    SUBATTR: /\.{_NAME}/
    OP: /(?:eq|ne|co|sw|ew|gt|ge|lt|le){_END}/i
    PR: /pr{_END}/i
    _AND: /and{_END}/i
    _OR: /or{_END}/i
    // `not` only counts as the operator when a parenthesis follows, so `notes pr` still works.
    _NOT.2: /not(?=\s*\()/i
    _LPAR: "("
    _RPAR: ")"
    _LSQB: "["
    _RSQB: "]"
    // A JSON string, or a bare word up to whitespace, `)` or `]`; classified in Python.
    VALUE: /"(?:[^"\\]|\\.)*"|[^\s()\[\]"][^\s)\]]*/

    %import common.WS
    %ignore WS
"""


def attr_path_from_text(text: str) -> AttrPath | None:
    """Split `[URN ":"] ATTRNAME ["." subAttr]`, or None when `text` is not exactly that."""
    match = _ATTR_PATH_RE.fullmatch(text)
    if match is None:
        return None
    return AttrPath(match.group("urn"), match.group("attr"), match.group("sub"))


def _attr_path(token: Token) -> AttrPath:
    path = attr_path_from_text(str(token))
    if path is None:  # the ATTRPATH terminal and the regex are the same pattern
        raise InvalidFilter(f"invalid attribute path {str(token)!r}")
    return path


def _value(token: Token) -> Value:
    """Classify a VALUE token as RFC 7644 `compValue`; anything else is a bare string."""
    text = str(token)
    if text.startswith('"'):
        try:
            decoded = json.loads(text)
        except ValueError as exc:
            raise InvalidFilter(f"invalid string literal {text} in filter") from exc
        assert isinstance(decoded, str)
        if not decoded.isascii():
            try:
                decoded.encode()  # an escaped lone surrogate ("\ud800") decodes but is no text to compare
            except UnicodeEncodeError as exc:
                raise InvalidFilter(f"string literal {text} in filter is not valid Unicode") from exc
        return decoded
    keyword = text.lower()
    if keyword in ("true", "false"):
        return keyword == "true"
    if keyword == "null":
        return None
    if _NUMBER_RE.fullmatch(text):
        if text.lstrip("-").isdigit():
            return int(text)
        number = float(text)
        if not math.isfinite(number):
            raise InvalidFilter(f"number {text} is out of range")
        return number
    return text


def _fold(cls: type[And] | type[Or], items: list[Expr]) -> Expr:
    """Fold an associative chain into a balanced tree; two or three terms stay left-nested."""
    if len(items) == 1:
        return items[0]
    mid = (len(items) + 1) // 2
    return cls(_fold(cls, items[:mid]), _fold(cls, items[mid:]))


def _contains_value_path(expr: Expr) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ValuePath):
            return True
        if isinstance(node, (And, Or)):
            stack.extend((node.left, node.right))
        elif isinstance(node, Not):
            stack.append(node.expr)
    return False


def _depth(expr: Expr) -> int:
    deepest = 0
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, (And, Or)):
            stack.extend(((node.left, level + 1), (node.right, level + 1)))
        elif isinstance(node, Not):
            stack.append((node.expr, level + 1))
        elif isinstance(node, ValuePath):
            stack.append((node.filter, level + 1))
    return deepest


def _op(token: Token) -> CompareOp:
    op = str(token).lower()
    assert op in COMPARE_OPS
    return op  # type: ignore[return-value]


class _ToAst(Transformer[Token, Any]):
    """Build AST nodes as the LALR parser reduces (callbacks named after grammar rules)."""

    def filter(self, children: list[Expr]) -> Expr:
        return children[0]

    def patch_path(self, children: list[Any]) -> tuple[AttrPath, Expr | None, str | None]:
        path = _attr_path(children[0])
        if len(children) == 1:
            return path, None, None
        value_filter = self._value_filter(path, children[1])
        sub = str(children[2])[1:] if len(children) > 2 else None
        return path, value_filter, sub

    def or_expr(self, children: list[Expr]) -> Expr:
        return _fold(Or, children)

    def and_expr(self, children: list[Expr]) -> Expr:
        return _fold(And, children)

    def negation(self, children: list[Expr]) -> Expr:
        return Not(children[0])

    def present(self, children: list[Token]) -> Expr:
        return Present(_attr_path(children[0]))

    def compare(self, children: list[Token]) -> Expr:
        return Compare(_attr_path(children[0]), _op(children[1]), _value(children[2]))

    def value_path(self, children: list[Any]) -> Expr:
        path = _attr_path(children[0])
        inner = self._value_filter(path, children[1])
        if len(children) > 2:
            # `emails[type eq "work"].value eq "x"`: the trailing test applies to the same element.
            sub = AttrPath(None, str(children[2])[1:])
            trailing: Expr = (
                Present(sub) if len(children) == 4 else Compare(sub, _op(children[3]), _value(children[4]))
            )
            inner = And(inner, trailing)
        return ValuePath(path, inner)

    @staticmethod
    def _value_filter(path: AttrPath, inner: Expr) -> Expr:
        if path.sub_attr is not None:
            raise InvalidFilter(f"a [filter] applies to an attribute, not to the sub-attribute {path}")
        if _contains_value_path(inner):
            raise InvalidFilter(f"value filters cannot be nested inside {path}[...]")
        return inner


_PARSER = Lark(
    _GRAMMAR,
    start=["filter", "patch_path"],
    parser="lalr",
    lexer="contextual",
    transformer=_ToAst(),
    maybe_placeholders=False,
)


def _describe(exc: UnexpectedInput, text: str) -> str:
    at_end = isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    if (
        at_end
        or isinstance(exc, UnexpectedEOF)
        or exc.pos_in_stream is None
        or exc.pos_in_stream >= len(text)
    ):
        return "unexpected end of input"
    pos = exc.pos_in_stream
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {text[pos]!r} at position {pos}"
    # Quote only a short piece of the client's text back to it.
    word = text[pos:].split(maxsplit=1)[0]
    return f"unexpected {word[:32] + ('...' if len(word) > 32 else '')!r} at position {pos}"


def _parse(text: str, start: str) -> Any:
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilter(f"longer than {MAX_FILTER_LENGTH} characters")
    if not text.strip():
        raise InvalidFilter("empty")
    try:
        return _PARSER.parse(text, start=start)
    except VisitError as exc:  # raised when a callback fails, with our error inside
        if isinstance(exc.orig_exc, InvalidFilter):
            raise exc.orig_exc from None
        raise
    except UnexpectedInput as exc:
        raise InvalidFilter(_describe(exc, text)) from None
    except LarkError as exc:
        raise InvalidFilter(str(exc)) from None


def parse_filter(text: str) -> Expr:
    """Parse an RFC 7644 §3.4.2.2 filter; raise `InvalidFilter` (400 invalidFilter) if malformed."""
    expr: Expr = _parse(text, "filter")
    _check_depth(expr)
    return expr


# `attr[sub eq "plain string"]`: Okta removes each member with `members[value eq "<id>"]`, one operation per
# member, and 1,000 of them cost about 70 ms through the grammar. This form alone is read by a regex; its
# string has no escapes or control characters, so its JSON decoding is itself. Anything else (or any doubt:
# a name the attribute-path pattern refuses, a sub-attribute before the bracket) goes through the grammar;
# tests/unit/test_filter_parser.py checks that both give the same tree.
_WS = "[ \t\f\r\n]"  # the grammar's ignored whitespace (lark's common.WS)
_SIMPLE_VALUE_PATH_RE = re.compile(
    rf'{_WS}*([^\s\[\]"]+)\[{_WS}*([^\s\[\]"]+){_WS}+eq{_WS}+"([^"\\\x00-\x1f]*)"{_WS}*\]{_WS}*', re.I
)


def _simple_value_path(text: str) -> tuple[AttrPath, Expr, None] | None:
    if len(text) > MAX_FILTER_LENGTH or not text.isascii():
        return None  # the grammar's path says why, or decides what non-ASCII text means
    match = _SIMPLE_VALUE_PATH_RE.fullmatch(text)
    if match is None:
        return None
    attr, inner = attr_path_from_text(match.group(1)), attr_path_from_text(match.group(2))
    if attr is None or inner is None or attr.sub_attr is not None:
        return None
    return attr, Compare(inner, "eq", match.group(3)), None


def parse_path_parts(text: str) -> tuple[AttrPath, Expr | None, str | None]:
    """Parse an RFC 7644 §3.5.2 PATCH path into (attrPath, valFilter, subAttr).

    Raises `InvalidFilter`; `scim_core.paths.parse_patch_path` turns that into `InvalidPath`.
    """
    simple = _simple_value_path(text)
    if simple is not None:
        return simple
    parts: tuple[AttrPath, Expr | None, str | None] = _parse(text, "patch_path")
    if parts[1] is not None:
        _check_depth(parts[1])
    return parts


def _check_depth(expr: Expr) -> None:
    if _depth(expr) > MAX_DEPTH:
        raise InvalidFilter(f"nested deeper than {MAX_DEPTH} levels")
