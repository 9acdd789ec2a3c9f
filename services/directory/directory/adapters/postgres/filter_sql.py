"""Compile RFC 7644 §3.4.2.2 filters and §3.4.2.3 `sortBy` into parameterised PostgreSQL.

Where the data lives (migrations/0001_initial.sql):

* hot attributes are typed columns (`users.user_name`, `external_id`, `display_name`, `active`,
  `created_at`, `last_modified`; `groups.display_name`, ...), compared in the shape their indexes
  were built for (`lower(user_name)` for the case-insensitive userName, RFC 7643 §4.1.1);
* everything else is in the `doc` jsonb under its canonical schema name, extension attributes
  under their schema URN key; multi-valued attributes are JSON arrays;
* group membership is rows in `directory.memberships`, so `members` (and a user's `groups`)
  compile to `EXISTS` over those rows.

Safety: every value from the filter is a bind parameter. Identifiers and jsonb keys come only
from schema objects: keys of the built-in RFC 7643 schemas are SQL literals, keys of a
workspace's custom extensions (which a tenant wrote) are bind parameters as well.

Three-valued logic: a comparison on an absent attribute is NULL, which WHERE treats as false.
`and`/`or` keep that reading (they are monotone), and `not` is compiled as `IS NOT TRUE`, so
`not (title eq "x")` matches users without a title, as a two-valued reading of the RFC expects.
Leaves are not wrapped in `coalesce`, which would hide them from the indexes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from scim_core.errors import InvalidFilter, InvalidValue, ScimError
from scim_core.filter.ast import And, AttrPath, Compare, Expr, Not, Or, Present, Value, ValuePath
from scim_core.paths import parse_attr_path
from scim_core.schema import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    GROUP_URN,
    USER_SCHEMA,
    USER_URN,
    Attribute,
    ResourceSchema,
    Schema,
)
from scim_core.schema.resources import COMMON_ATTRIBUTES

__all__ = ["SqlParams", "compile_filter", "compile_sort"]


class SqlParams:
    """Collects bind values and hands out their `$n` placeholders, in order.

    `start` is the number of the first placeholder, so a query that already uses `$1` for the
    connection id passes `start=2`; afterwards pass `*params.values` after the caller's own.
    """

    def __init__(self, start: int = 1) -> None:
        self.start = start
        self.values: list[object] = []

    def add(self, value: object) -> str:
        self.values.append(value)
        return f"${self.start + len(self.values) - 1}"

    @property
    def next_placeholder(self) -> int:
        """The number the next value will get, for a caller appending its own parameters."""
        return self.start + len(self.values)


_BUILTIN_SCHEMAS = (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA)
_COMMON = Schema(
    id="", name="common", description="RFC 7643 §3.1 common attributes", attributes=COMMON_ATTRIBUTES
)
_SAFE_ALIAS = re.compile(r"[a-z_][a-z0-9_]*")
# Literal jsonb keys must not be able to leave their quotes, whatever a schema says.
_SAFE_KEY = re.compile(r"[A-Za-z0-9$_:.-]+")
_TEXT_TYPES = frozenset({"string", "reference", "binary"})
_NUMBER_TYPES = frozenset({"integer", "decimal"})
_ORDERING = frozenset({"gt", "ge", "lt", "le"})
_SUBSTRING = frozenset({"co", "sw", "ew"})
_SQL_ORDER = {"eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
# Only text that looks like an ISO 8601 date(-time) reaches the timestamptz cast, so one malformed
# document cannot fail a whole list request.
_ISO_SQL = (
    "'^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    "([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$'"
)
_FRACTION_BEYOND_MICROS = re.compile(r"(\.[0-9]{6})[0-9]+")


@dataclass(frozen=True)
class _Resolved:
    """A filter path resolved against the resource's schemas: canonical names and definitions."""

    schema: Schema
    attr: Attribute
    sub: Attribute | None

    @property
    def label(self) -> str:
        return f"{self.attr.name}.{self.sub.name}" if self.sub else self.attr.name

    @property
    def in_core(self) -> bool:
        return self.schema is _COMMON or self.schema.id in (USER_URN, GROUP_URN)


@dataclass(frozen=True)
class _Operand:
    """One comparable value: a typed column, or a jsonb value with its text extraction."""

    attr: Attribute  # the definition that decides type and caseExact
    label: str
    sql: str  # a typed column, or the value as text (`->>`) for jsonb
    json: str | None = None  # the jsonb value itself, when stored in `doc`
    uuid_sql: str | None = None  # the uuid column behind `sql`, so `id eq <uuid>` uses the key


@dataclass(frozen=True)
class _Membership:
    """`members` of a group or `groups` of a user: rows of directory.memberships."""

    owner_column: str  # the memberships column pointing at the filtered row
    other_column: str  # the memberships column compared with `value`


_Leaf = Callable[[Present | Compare], str]


def _datetime(value: Value, label: str, error: type[ScimError]) -> datetime:
    if not isinstance(value, str):
        raise error(f"{label} is a dateTime; compare it with a string")
    # Python keeps microseconds; Microsoft sends 100 ns ticks (7 digits).
    text = _FRACTION_BEYOND_MICROS.sub(r"\1", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise error(f"{value!r} is not a valid dateTime for {label}") from None
    # xsd:dateTime without an offset is read as UTC rather than as the server's zone.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _boolean(value: Value, label: str, error: type[ScimError]) -> bool:
    if isinstance(value, bool):
        return value
    # Clients send "True"/"False" strings for booleans (Entra does in PATCH); accept them here too.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise error(f"{label} is a boolean; compare it with true or false")


def _number(value: Value, label: str, error: type[ScimError]) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise error(f"{label} is a number; compare it with a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise error(f"{value!r} is not a number for {label}") from None
    if not number.is_finite():
        raise error(f"{value!r} is not a number for {label}")
    return number


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _like_escape(value: str) -> str:
    """Escape LIKE's metacharacters so `co "%"` means a literal percent sign."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Compiler:
    def __init__(
        self,
        resource: ResourceSchema,
        alias: str,
        params: SqlParams | None,
        error: type[ScimError],
    ) -> None:
        if not _SAFE_ALIAS.fullmatch(alias):
            raise ValueError(f"table alias {alias!r} must be a plain SQL identifier")
        if resource.core.id not in (USER_URN, GROUP_URN):
            raise ValueError(f"no table for resource type {resource.name!r}")
        self.resource = resource
        self.alias = alias
        self.is_user = resource.core.id == USER_URN
        self.params = params
        self.error = error
        self._subqueries = 0

    # -- names -------------------------------------------------------------------------------

    def bind(self, value: object) -> str:
        if self.params is None:
            # Only sorting runs without parameters; tenant-defined keys are never spliced into SQL.
            raise self.error("attributes of custom extensions cannot be sorted on here")
        return self.params.add(value)

    def key(self, schema: Schema, name: str) -> str:
        """A jsonb key as SQL: a literal for built-in schemas, a bind parameter for tenant ones."""
        if any(schema is s for s in _BUILTIN_SCHEMAS) and _SAFE_KEY.fullmatch(name):
            return f"'{name}'"
        return f"{self.bind(name)}::text"

    def next_alias(self, prefix: str) -> str:
        self._subqueries += 1
        return f"{prefix}{self._subqueries}"

    def resolve(self, path: AttrPath) -> _Resolved:
        """Find the schema definition behind `path` (RFC 7643 §2.1: names are case-insensitive)."""
        core = self.resource.core
        if path.urn is None:
            candidates = (_COMMON, core, *self.resource.extensions)
        elif path.urn.lower() == core.id.lower():
            candidates = (_COMMON, core)
        else:
            ext = self.resource.extension(path.urn)
            if ext is None:
                raise self.error(f"unknown schema {path.urn!r} in {path} for {self.resource.name}")
            candidates = (ext,)
        found = next(((s, a) for s in candidates if (a := s.attribute(path.attr)) is not None), None)
        if found is None:
            raise self.error(f"unknown attribute {str(path)!r} for {self.resource.name}")
        schema, attr = found
        sub = None
        if path.sub_attr is not None:
            sub = attr.sub(path.sub_attr)
            if sub is None:
                raise self.error(f"unknown attribute {str(path)!r} for {self.resource.name}")
        resolved = _Resolved(schema, attr, sub)
        if attr.returned == "never" or (sub is not None and sub.returned == "never"):
            raise self.error(f"{resolved.label} is never returned and cannot be filtered or sorted on")
        return resolved

    # -- storage -----------------------------------------------------------------------------

    def column(self, r: _Resolved) -> _Operand | None:
        """The typed column behind an attribute, if it has one; raises for unsupported meta."""
        if not r.in_core:
            return None
        a = self.alias
        columns = {
            "id": f"{a}.id::text",
            "externalid": f"{a}.external_id",
            "displayname": f"{a}.display_name",
            "meta.created": f"{a}.created_at",
            "meta.lastmodified": f"{a}.last_modified",
        }
        if self.is_user:
            columns |= {"username": f"{a}.user_name", "active": f"{a}.active"}
        label = r.label.lower()
        if label in columns:
            return _Operand(
                r.sub or r.attr, r.label, columns[label], uuid_sql=f"{a}.id" if label == "id" else None
            )
        if r.attr.name == "meta":
            raise self.error(f"{r.label} cannot be filtered or sorted on")
        return None

    def membership(self, r: _Resolved) -> _Membership | None:
        if not r.in_core:
            return None
        if not self.is_user and r.attr.name == "members":
            return _Membership("group_id", "user_id")
        if self.is_user and r.attr.name == "groups":
            return _Membership("user_id", "group_id")
        return None

    def doc_parent(self, r: _Resolved) -> str:
        """The jsonb object holding the attribute: `doc`, or `doc->'<urn>'` for an extension."""
        if r.in_core:
            return f"{self.alias}.doc"
        return f"{self.alias}.doc->{self.key(r.schema, r.schema.id)}"

    def doc_json(self, r: _Resolved) -> str:
        """The jsonb of the top-level attribute: `doc->'name'`, `doc->'<urn>'->'department'`."""
        return f"{self.doc_parent(r)}->{self.key(r.schema, r.attr.name)}"

    def doc_operand(self, r: _Resolved, parent: str, attr: Attribute) -> _Operand:
        """`attr` as a member of the jsonb object `parent`."""
        key = self.key(r.schema, attr.name)
        return _Operand(attr, r.label, f"{parent}->>{key}", json=f"{parent}->{key}")

    def elements(self, array_json: str, alias: str) -> str:
        return f"jsonb_array_elements(coalesce({array_json}, '[]'::jsonb)) AS {alias}(v)"

    def membership_exists(self, m: _Membership, alias: str, condition: str | None) -> str:
        where = f"{alias}.{m.owner_column} = {self.alias}.id"
        if condition:
            where += f" AND ({condition})"
        return f"EXISTS (SELECT 1 FROM directory.memberships {alias} WHERE {where})"

    # -- expressions ---------------------------------------------------------------------------

    def expr(self, node: Expr, leaf: _Leaf, *, in_element: bool = False) -> str:
        if isinstance(node, (And, Or)):
            kind = type(node)
            parts: list[str] = []
            # Flatten chains of one operator so the SQL reads `(a AND b AND c)`.
            stack: list[Expr] = [node]
            while stack:
                item = stack.pop()
                if type(item) is kind:
                    assert isinstance(item, (And, Or))
                    stack.extend((item.right, item.left))
                else:
                    parts.append(self.expr(item, leaf, in_element=in_element))
            return "(" + (" AND " if kind is And else " OR ").join(parts) + ")"
        if isinstance(node, Not):
            return f"(({self.expr(node.expr, leaf, in_element=in_element)}) IS NOT TRUE)"
        if isinstance(node, ValuePath):
            if in_element:
                raise self.error(f"value filters cannot be nested inside another value filter ({node.path})")
            return self.value_path(node)
        if isinstance(node, Compare) and node.value is None:
            # RFC 7643 §2.5: null is the same as absent, so `eq null` asks for absence.
            if node.op == "eq":
                return self.expr(Not(Present(node.path)), leaf, in_element=in_element)
            if node.op == "ne":
                return leaf(Present(node.path))
            raise self.error(f"{node.op} cannot compare {node.path} with null")
        return leaf(node)

    def row_leaf(self, node: Present | Compare) -> str:
        r = self.resolve(node.path)
        col = self.column(r)
        if col is not None:
            return self.compare(node, col)
        m = self.membership(r)
        if m is not None:
            return self.membership_leaf(node, r, m)
        if r.attr.multi_valued:
            return self.multi_leaf(node, r)
        return self.compare(node, self.scalar_operand(r))

    def scalar_operand(self, r: _Resolved) -> _Operand:
        """A single-valued attribute in `doc`, or a sub-attribute of a single-valued complex one."""
        if r.sub is None:
            return self.doc_operand(r, self.doc_parent(r), r.attr)
        return self.doc_operand(r, self.doc_json(r), r.sub)

    def multi_leaf(self, node: Present | Compare, r: _Resolved) -> str:
        """RFC 7644 §3.4.2.2: a multi-valued attribute matches if any of its values matches."""
        array = self.doc_json(r)
        if isinstance(node, Present) and r.sub is None:
            return self.present(_Operand(r.attr, r.label, array, json=array))
        e = self.next_alias("e")
        if r.attr.is_complex:
            # `emails eq "x"` means the `value` sub-attribute of some element.
            sub = r.sub or r.attr.sub("value")
            if sub is None:
                raise self.error(f"{r.label} has no value sub-attribute; name the sub-attribute to compare")
            operand = self.doc_operand(r, f"{e}.v", sub)
        elif r.sub is None:
            operand = _Operand(r.attr, r.label, f"{e}.v #>> '{{}}'", json=f"{e}.v")
        else:
            raise self.error(f"{r.label}: {r.attr.name} has no sub-attributes")
        return self.any_element(node, operand, f"SELECT 1 FROM {self.elements(array, e)} WHERE")

    def membership_leaf(self, node: Present | Compare, r: _Resolved, m: _Membership) -> str:
        alias = self.next_alias("m")
        if isinstance(node, Present) and r.sub is None:
            return self.membership_exists(m, alias, None)
        sub = r.sub or r.attr.sub("value")
        if sub is None or sub.name != "value":
            raise self.error(f"{r.label} cannot be filtered on; use {r.attr.name}.value")
        operand = _Operand(sub, r.label, f"{alias}.{m.other_column}::text")
        owned = f"{alias}.{m.owner_column} = {self.alias}.id"
        prefix = f"SELECT 1 FROM directory.memberships {alias} WHERE {owned} AND"
        return self.any_element(node, operand, prefix)

    def any_element(self, node: Present | Compare, operand: _Operand, select_where: str) -> str:
        # `ne` on a multi-valued attribute is the negation of `eq`: no element equals the value,
        # which also holds when the attribute is absent, as for single values.
        if isinstance(node, Compare) and node.op == "ne":
            positive = Compare(node.path, "eq", node.value)
            return f"(NOT EXISTS ({select_where} {self.compare(positive, operand)}))"
        return f"EXISTS ({select_where} {self.compare(node, operand)})"

    def value_path(self, node: ValuePath) -> str:
        """`emails[type eq "work" and value co "@x"]`: one element satisfies the whole filter."""
        if node.path.sub_attr is not None:
            raise self.error(f"a [filter] applies to an attribute, not to the sub-attribute {node.path}")
        r = self.resolve(node.path)
        m = self.membership(r)
        if m is not None:
            alias = self.next_alias("m")

            def member_leaf(inner: Present | Compare) -> str:
                sub = self.element_attr(r, inner.path)
                if sub.name != "value":
                    raise self.error(f"{r.attr.name}.{sub.name} cannot be filtered on; use value")
                label = f"{r.attr.name}.value"
                return self.compare(inner, _Operand(sub, label, f"{alias}.{m.other_column}::text"))

            return self.membership_exists(m, alias, self.expr(node.filter, member_leaf, in_element=True))
        if not (r.attr.multi_valued and r.attr.is_complex):
            raise self.error(f"{r.label} is not a multi-valued complex attribute, so [filter] cannot apply")
        e = self.next_alias("e")

        def element_leaf(inner: Present | Compare) -> str:
            sub = self.element_attr(r, inner.path)
            return self.compare(inner, self.doc_operand(_Resolved(r.schema, r.attr, sub), f"{e}.v", sub))

        condition = self.expr(node.filter, element_leaf, in_element=True)
        return f"EXISTS (SELECT 1 FROM {self.elements(self.doc_json(r), e)} WHERE {condition})"

    def element_attr(self, r: _Resolved, path: AttrPath) -> Attribute:
        """Inside `attr[...]`, a path names a sub-attribute of one element."""
        sub = r.attr.sub(path.attr) if path.urn is None and path.sub_attr is None else None
        if sub is None:
            raise self.error(f"{path} is not a sub-attribute of {r.attr.name}")
        if sub.returned == "never":
            raise self.error(f"{r.attr.name}.{sub.name} is never returned and cannot be filtered on")
        return sub

    # -- comparisons -----------------------------------------------------------------------------

    def present(self, operand: _Operand) -> str:
        """`pr`: present and neither null nor empty (RFC 7644 §3.4.2.2, RFC 7643 §2.5)."""
        if operand.json is not None:
            return f"({operand.json} NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{{}}'::jsonb))"
        if operand.attr.type in _TEXT_TYPES:
            return f"({operand.sql} IS NOT NULL AND {operand.sql} <> '')"
        return f"({operand.sql} IS NOT NULL)"

    def compare(self, node: Present | Compare, operand: _Operand) -> str:
        if isinstance(node, Present):
            return self.present(operand)
        attr, op = operand.attr, node.op
        if attr.is_complex:
            raise self.error(f"{operand.label} is complex; compare one of its sub-attributes")
        # RFC 7644 §3.4.2.2: ordering a boolean or binary attribute is invalidFilter; substring
        # matching means nothing for booleans, numbers and instants either.
        ordering_refused = op in _ORDERING and attr.type in ("boolean", "binary")
        substring_refused = op in _SUBSTRING and attr.type in ("boolean", "dateTime", *_NUMBER_TYPES)
        if ordering_refused or substring_refused:
            raise self.error(f"{op} cannot apply to the {attr.type} attribute {operand.label}")
        if attr.type == "boolean":
            return self.compare_boolean(op, operand, _boolean(node.value, operand.label, self.error))
        if attr.type == "dateTime":
            return self.compare_datetime(op, operand, _datetime(node.value, operand.label, self.error))
        if attr.type in _NUMBER_TYPES:
            return self.compare_number(op, operand, _number(node.value, operand.label, self.error))
        return self.compare_text(op, operand, _text(node.value))

    def compare_text(self, op: str, operand: _Operand, value: str) -> str:
        if "\x00" in value:
            # PostgreSQL text cannot hold U+0000 (binding it fails with a 500); nothing stored contains it.
            raise self.error(f"the value compared with {operand.label} contains the NUL character")
        if operand.uuid_sql is not None and op in ("eq", "ne"):
            # The primary key serves `id eq <uuid>`; other text cannot match any id.
            try:
                as_uuid = uuid.UUID(value)
            except ValueError:
                pass
            else:
                sql_op = "=" if op == "eq" else "<>"
                return f"({operand.uuid_sql} {sql_op} {self.bind(as_uuid)}::uuid)"
        fold = not operand.attr.case_exact
        lhs = f"lower({operand.sql})" if fold else operand.sql

        def rhs(text: str) -> str:
            placeholder = f"{self.bind(text)}::text"
            return f"lower({placeholder})" if fold else placeholder

        if op == "ne":
            return f"({lhs} IS DISTINCT FROM {rhs(value)})"
        if op in _SQL_ORDER:
            return f"({lhs} {_SQL_ORDER[op]} {rhs(value)})"
        pattern = rhs(_like_escape(value))
        like = {"co": f"'%' || {pattern} || '%'", "sw": f"{pattern} || '%'", "ew": f"'%' || {pattern}"}[op]
        return f"({lhs} LIKE ({like}))"

    def compare_boolean(self, op: str, operand: _Operand, value: bool) -> str:
        sql_op = "=" if op == "eq" else "IS DISTINCT FROM"
        if operand.json is None:
            return f"({operand.sql} {sql_op} {self.bind(value)}::boolean)"
        # Compared as text so a document holding "True" (as some clients send) still matches.
        return f"(lower({operand.sql}) {sql_op} {self.bind('true' if value else 'false')}::text)"

    def compare_datetime(self, op: str, operand: _Operand, value: datetime) -> str:
        lhs = operand.sql
        if operand.json is not None:
            lhs = f"(CASE WHEN {operand.sql} ~ {_ISO_SQL} THEN ({operand.sql})::timestamptz END)"
        sql_op = _SQL_ORDER.get(op, "IS DISTINCT FROM")
        return f"({lhs} {sql_op} {self.bind(value)}::timestamptz)"

    def compare_number(self, op: str, operand: _Operand, value: Decimal) -> str:
        lhs = operand.sql
        if operand.json is not None:
            lhs = f"(CASE WHEN jsonb_typeof({operand.json}) = 'number' THEN ({operand.json})::numeric END)"
        sql_op = _SQL_ORDER.get(op, "IS DISTINCT FROM")
        return f"({lhs} {sql_op} {self.bind(value)}::numeric)"

    # -- sorting ---------------------------------------------------------------------------------

    def sort_key(self, path: AttrPath) -> str:
        r = self.resolve(path)
        col = self.column(r)
        if col is not None:
            if col.uuid_sql is not None:
                return col.uuid_sql
            return (
                f"lower({col.sql})" if col.attr.type in _TEXT_TYPES and not col.attr.case_exact else col.sql
            )
        if self.membership(r) is not None:
            raise self.error(f"{r.label} cannot be sorted on")
        if not r.attr.multi_valued:
            if r.sub is None and r.attr.is_complex:
                raise self.error(f"{r.label} is complex; name one of its sub-attributes")
            return self.sortable(self.scalar_operand(r))
        # RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary (else first) value.
        e = self.next_alias("s")
        if r.attr.is_complex:
            sub = r.sub or r.attr.sub("value")
            if sub is None:
                raise self.error(f"{r.label} has no value sub-attribute; name the one to sort by")
            operand = self.doc_operand(r, f"{e}.v", sub)
        else:
            operand = _Operand(r.attr, r.label, f"{e}.v #>> '{{}}'", json=f"{e}.v")
        primary_first = (
            f"lower({e}.v->>'primary') = 'true' DESC NULLS LAST, " if r.attr.sub("primary") else ""
        )
        array = self.doc_json(r)
        return (
            f"(SELECT {self.sortable(operand)} FROM jsonb_array_elements(coalesce({array}, '[]'::jsonb))"
            f" WITH ORDINALITY AS {e}(v, n) ORDER BY {primary_first}{e}.n LIMIT 1)"
        )

    def sortable(self, operand: _Operand) -> str:
        attr = operand.attr
        if attr.type in _NUMBER_TYPES and operand.json is not None:
            return f"(CASE WHEN jsonb_typeof({operand.json}) = 'number' THEN ({operand.json})::numeric END)"
        if attr.type in _TEXT_TYPES and not attr.case_exact:
            return f"lower({operand.sql})"
        return operand.sql


def compile_filter(expr: Expr, resource: ResourceSchema, table_alias: str, params: SqlParams) -> str:
    """Compile `expr` into a SQL boolean expression over `table_alias` (users or groups).

    Values are appended to `params`; the result contains only placeholders, schema-defined
    names and fixed SQL. Raises `InvalidFilter` for unknown attributes and inapplicable operators.
    """
    compiler = _Compiler(resource, table_alias, params, InvalidFilter)
    return compiler.expr(expr, compiler.row_leaf)


def compile_sort(
    sort_by: str, resource: ResourceSchema, table_alias: str, params: SqlParams | None = None
) -> str:
    """The ORDER BY expression for RFC 7644 §3.4.2.3 `sortBy` (direction and tie-breaker are the caller's).

    Sorting on a custom-extension attribute needs `params`, because its jsonb keys are tenant text
    and are bound, never spliced. Raises `InvalidValue` for an unknown or unsortable attribute.
    """
    try:
        path = parse_attr_path(sort_by, error=InvalidValue)
        return _Compiler(resource, table_alias, params, InvalidValue).sort_key(path)
    except InvalidValue as exc:
        raise InvalidValue(f"sortBy {sort_by!r}: {exc.detail}") from None
