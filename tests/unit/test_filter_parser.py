"""The RFC 7644 §3.4.2.2 filter parser and the §3.5.2 PATCH path parser: AST shapes and refusals."""

from __future__ import annotations

import itertools

import pytest
from scim_core.errors import InvalidFilter, InvalidPath, InvalidValue
from scim_core.filter import (
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    And,
    AttrPath,
    Compare,
    Expr,
    Not,
    Or,
    Present,
    ValuePath,
    parse_filter,
    parser,
)
from scim_core.paths import PatchPath, parse_attr_path, parse_patch_path

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def p(attr: str, sub: str | None = None, urn: str | None = None) -> AttrPath:
    return AttrPath(urn, attr, sub)


def eq(attr: str, value: object, sub: str | None = None) -> Compare:
    return Compare(p(attr, sub), "eq", value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "bjensen"', eq("userName", "bjensen")),
        ('name.familyName co "O\'Malley"', Compare(p("name", "familyName"), "co", "O'Malley")),
        ('userName sw "J"', Compare(p("userName"), "sw", "J")),
        ("title pr", Present(p("title"))),
        (
            'meta.lastModified gt "2011-05-13T04:42:34Z"',
            Compare(p("meta", "lastModified"), "gt", "2011-05-13T04:42:34Z"),
        ),
        ("active eq true", eq("active", True)),
        ("active eq FALSE", eq("active", False)),
        ("title eq null", eq("title", None)),
        ("age ge 42", Compare(p("age"), "ge", 42)),
        ("score lt -1.5e2", Compare(p("score"), "lt", -150.0)),
        ('userName eq "a\\"b\\\\c\\u00e9"', eq("userName", 'a"b\\cé')),
        ('userName eq "true"', eq("userName", "true")),
        ('$ref eq "x"', eq("$ref", "x")),
    ],
)
def test_rfc_examples_parse_to_the_expected_leaf(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("externalId eq jyoung", eq("externalId", "jyoung")),
        ("name.FamilyName eq Employee", eq("name", "Employee", "FamilyName")),
        ("emails.Value co example.com", Compare(p("emails", "Value"), "co", "example.com")),
        (
            "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
            Compare(p("meta", "Created"), "gt", "2015-10-10T14:38:21.8617979-07:00"),
        ),
        ("(externalId eq jyoung)", eq("externalId", "jyoung")),
        ("externalId eq 007", eq("externalId", "007")),
        ("externalId eq and", eq("externalId", "and")),
    ],
)
def test_bare_values_from_microsoft_clients_are_strings(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


def test_operators_keywords_and_names_keep_case_but_operators_are_lowercased() -> None:
    assert parse_filter('USERNAME EQ "X" AND Title PR') == And(eq("USERNAME", "X"), Present(p("Title")))
    assert parse_filter("NOT (a Pr)") == Not(Present(p("a")))


def test_precedence_is_not_then_and_then_or() -> None:
    a, b, c = Present(p("a")), Present(p("b")), Present(p("c"))
    assert parse_filter("a pr or b pr and c pr") == Or(a, And(b, c))
    assert parse_filter("a pr and b pr or c pr") == Or(And(a, b), c)
    assert parse_filter("(a pr or b pr) and c pr") == And(Or(a, b), c)
    assert parse_filter("not (a pr) and b pr") == And(Not(a), b)
    assert parse_filter("a pr or b pr or c pr") == Or(Or(a, b), c)


def test_long_chains_are_balanced_so_depth_stays_small() -> None:
    text = " or ".join(f'id eq "{i}"' for i in range(256))
    expr = parse_filter(text)
    depth, stack = 0, [(expr, 1)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        if isinstance(node, Or):
            stack += [(node.left, level + 1), (node.right, level + 1)]
    assert depth == 9


def test_keyword_prefixes_are_still_attribute_names() -> None:
    assert parse_filter("notes pr") == Present(p("notes"))
    assert parse_filter("orders pr and andrew pr") == And(Present(p("orders")), Present(p("andrew")))
    assert parse_filter("press eq 1") == eq("press", 1)


def test_urn_prefix_is_everything_up_to_the_last_colon() -> None:
    assert parse_filter(f'{ENTERPRISE}:department eq "X"') == Compare(
        p("department", urn=ENTERPRISE), "eq", "X"
    )
    assert parse_filter(f'{ENTERPRISE}:manager.value eq "42"') == Compare(
        p("manager", "value", ENTERPRISE), "eq", "42"
    )
    core = "urn:ietf:params:scim:schemas:core:2.0:User"
    assert parse_filter(f'{core}:userName eq "x"') == Compare(p("userName", urn=core), "eq", "x")


def test_value_path_with_a_logical_filter() -> None:
    assert parse_filter('emails[type eq "work" and primary eq true]') == ValuePath(
        p("emails"), And(eq("type", "work"), eq("primary", True))
    )
    assert parse_filter('emails[type eq "work"] and userName sw "b"') == And(
        ValuePath(p("emails"), eq("type", "work")), Compare(p("userName"), "sw", "b")
    )


def test_entra_value_path_followed_by_a_sub_attribute_compare() -> None:
    assert parse_filter('emails[type eq "work"].value eq "x@example.com"') == ValuePath(
        p("emails"), And(eq("type", "work"), eq("value", "x@example.com"))
    )
    assert parse_filter("addresses[type eq work].postalCode pr") == ValuePath(
        p("addresses"), And(eq("type", "work"), Present(p("postalCode")))
    )


@pytest.mark.parametrize(
    "text",
    [
        "someone@example.com",
        "filter=someone@example.com",
        "userName",
        "userName eq",
        'userName eq "x" and',
        'userName xx "x"',
        'userName eq "unterminated',
        'userName eq "bad \\q escape"',
        "userName eq 1e999",
        '"x" eq userName',
        "(userName pr",
        "userName pr)",
        "not userName pr",
        'emails[type eq "work"',
        'emails[type eq "work"]]',
        'emails[types[value eq "x"]]',
        'name.familyName[value eq "x"]',
        "emails[]",
        "1abc eq 1",
        "",
        "   ",
    ],
)
def test_malformed_filters_are_invalid_filter(text: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text)
    assert info.value.status == 400 and info.value.scim_type == "invalidFilter"


def test_errors_point_at_the_problem() -> None:
    with pytest.raises(InvalidFilter, match="position 6"):
        parse_filter("filter=someone@example.com")
    with pytest.raises(InvalidFilter, match="end of input"):
        parse_filter("userName eq")


def test_size_and_depth_limits() -> None:
    with pytest.raises(InvalidFilter, match="longer than"):
        parse_filter('userName eq "' + "x" * MAX_FILTER_LENGTH + '"')
    nested = "not (" * (MAX_DEPTH + 1) + "a pr" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(InvalidFilter, match="nested deeper"):
        parse_filter(nested)
    # Redundant parentheses add no tree levels.
    assert parse_filter("(" * 200 + "a pr" + ")" * 200) == Present(p("a"))


def test_nodes_are_frozen_and_hashable() -> None:
    expr = parse_filter('emails[type eq "work"]')
    assert isinstance(expr, ValuePath)
    assert hash(expr) == hash(parse_filter('emails[type eq "work"]'))
    with pytest.raises(AttributeError):
        expr.path = p("x")  # type: ignore[misc]


def test_attr_path_str_round_trips() -> None:
    for text in ("userName", "name.givenName", f"{ENTERPRISE}:manager.value"):
        assert str(parse_attr_path(text)) == text


def test_parse_attr_path() -> None:
    assert parse_attr_path("name.givenName") == p("name", "givenName")
    assert parse_attr_path(f"{ENTERPRISE}:employeeNumber") == p("employeeNumber", urn=ENTERPRISE)
    assert parse_attr_path(" displayName ") == p("displayName")
    for bad in ("", "a b", "emails[type eq 1]", "name.given.extra", "9lives"):
        with pytest.raises(InvalidPath):
            parse_attr_path(bad)
    with pytest.raises(InvalidValue):
        parse_attr_path("a b", error=InvalidValue)


def test_parse_patch_path() -> None:
    assert parse_patch_path("members") == PatchPath(p("members"))
    assert parse_patch_path("name.familyName") == PatchPath(p("name", "familyName"))
    assert parse_patch_path('members[value eq "2819c223-7f76-453a-919d-413861904646"]') == PatchPath(
        p("members"), eq("value", "2819c223-7f76-453a-919d-413861904646"), None
    )
    assert parse_patch_path('emails[type eq "work"].value') == PatchPath(
        p("emails"), eq("type", "work"), "value"
    )
    assert parse_patch_path(f"{ENTERPRISE}:manager") == PatchPath(p("manager", urn=ENTERPRISE))
    assert parse_patch_path('addresses[type eq "work" and primary eq true].streetAddress') == PatchPath(
        p("addresses"), And(eq("type", "work"), eq("primary", True)), "streetAddress"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "emails[",
        'emails[type eq "work"',
        "emails[type]",
        "a b",
        'emails[type eq "w"].value.x',
        "emails.value[x pr]",
    ],
)
def test_bad_patch_paths_are_invalid_path(text: str) -> None:
    with pytest.raises(InvalidPath) as info:
        parse_patch_path(text)
    assert info.value.scim_type == "invalidPath"


def test_an_escaped_lone_surrogate_is_an_invalid_filter() -> None:
    with pytest.raises(InvalidFilter):
        parse_filter('title eq "\\ud800"')
    assert parse_filter('title eq "\\ud83d\\ude00"') is not None  # a proper pair is text


# The regex read of `attr[sub eq "string"]` (filter.parser._simple_value_path) must give exactly the
# grammar's tree whenever it answers at all, and must answer for what Okta sends.
_NAMES = [
    "members",
    "Emails",
    "value",
    "urn:ietf:params:scim:schemas:core:2.0:Group:members",
    "name.givenName",
]
_NAMES += ["1bad", "me-mbers", "$ref", "a b", "", ".", "a]b"]
_SPACES = ["", " ", "\t", "\r\n", "\u00a0"]
_VALUES = ["2819c223-7f76", "", " a ", "a b", "é", "\\", "\x00", '"', "x'y", "]", "a\tb"]


@pytest.mark.parametrize("op", ["eq", "EQ", "ne", "eqx"])
@pytest.mark.parametrize("quote", ['"', "'"])
def test_the_fast_value_path_read_agrees_with_the_grammar(op: str, quote: str) -> None:
    answered = 0
    for attr, inner, value, (outer, around) in itertools.product(
        _NAMES, _NAMES, _VALUES, itertools.product(_SPACES, _SPACES)
    ):
        text = f"{outer}{attr}[{around}{inner} {op} {quote}{value}{quote}{around}]{outer}"
        fast = parser._simple_value_path(text)
        if fast is not None:
            answered += 1
            assert fast == parser._parse(text, "patch_path"), text
    # Only `eq` with a double-quoted string is read by the regex, and then most valid names are.
    assert (answered > 500) == (op.lower() == "eq" and quote == '"'), answered


def test_okta_member_removal_takes_the_fast_read() -> None:
    text = 'members[value eq "2819c223-7f76-453a-919d-413861904646"]'
    assert parser._simple_value_path(text) is not None
    assert parse_patch_path(text) == PatchPath(
        AttrPath(None, "members"),
        Compare(AttrPath(None, "value"), "eq", "2819c223-7f76-453a-919d-413861904646"),
        None,
    )
    # Escapes, other operators and longer filters are the grammar's.
    for other in (
        'members[value eq "a\\"b"]',
        'members[value ne "a"]',
        'members[value eq "a" or value eq "b"]',
    ):
        assert parser._simple_value_path(other) is None
