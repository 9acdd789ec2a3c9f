"""Compiling filters to SQL without a database: shapes, bind parameters, refusals, no spliced user text."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from directory.adapters.postgres.filter_sql import SqlParams, compile_filter, compile_sort
from hypothesis import given
from hypothesis import strategies as st
from scim_core.errors import InvalidFilter, InvalidValue
from scim_core.filter import parse_filter
from scim_core.schema import GROUP_RESOURCE, USER_RESOURCE, ResourceSchema, Schema, resource_with_extensions

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM_URN = "urn:acme:params:scim:schemas:extension:Badge'--:2.0:User"
CUSTOM = Schema.from_schema_json(
    {
        "id": CUSTOM_URN,
        "attributes": [
            {"name": "badgeCode"},
            {"name": "clearance", "type": "integer"},
            {"name": "hiredOn", "type": "dateTime"},
            {"name": "remote", "type": "boolean"},
            {"name": "tags", "multiValued": True},
            {"name": "photo", "type": "binary"},
        ],
    }
)
USERS = resource_with_extensions(USER_RESOURCE, (CUSTOM,))


def users(text: str, start: int = 2) -> tuple[str, list[object]]:
    params = SqlParams(start=start)
    return compile_filter(parse_filter(text), USERS, "u", params), params.values


def groups(text: str) -> tuple[str, list[object]]:
    params = SqlParams(start=2)
    return compile_filter(parse_filter(text), GROUP_RESOURCE, "g", params), params.values


def placeholders(sql: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r"\$(\d+)", sql)})


def test_sql_params_numbers_from_start() -> None:
    params = SqlParams(start=3)
    assert (params.add("a"), params.add("b")) == ("$3", "$4")
    assert params.values == ["a", "b"] and params.next_placeholder == 5


def test_username_eq_uses_the_lower_index_shape() -> None:
    sql, values = users('userName eq "BJensen@Example.com"')
    assert sql == "(lower(u.user_name) = lower($2::text))"
    assert values == ["BJensen@Example.com"]


@pytest.mark.parametrize(
    ("op", "pattern", "value"),
    [
        ("co", "LIKE ('%' || lower($2::text) || '%')", "a\\%b\\_c\\\\d"),
        ("sw", "LIKE (lower($2::text) || '%')", "a\\%b\\_c\\\\d"),
        ("ew", "LIKE ('%' || lower($2::text))", "a\\%b\\_c\\\\d"),
    ],
)
def test_substring_operators_escape_like_metacharacters_in_the_value(
    op: str, pattern: str, value: str
) -> None:
    sql, values = users(f'userName {op} "a%b_c\\\\d"')
    assert sql == f"(lower(u.user_name) {pattern})"
    assert values == [value]


def test_case_exact_attributes_are_not_lowered() -> None:
    sql, values = users('externalId eq "ABC"')
    assert sql == "(u.external_id = $2::text)" and values == ["ABC"]


def test_ne_is_true_for_absent_values() -> None:
    sql, _ = users('title ne "x"')
    assert sql == "(lower(u.doc->>'title') IS DISTINCT FROM lower($2::text))"


def test_not_collapses_unknown_to_true() -> None:
    sql, _ = users('not (title eq "x")')
    assert sql.endswith("IS NOT TRUE)")


def test_and_or_chains_are_flattened_and_parenthesised() -> None:
    sql, values = users('userName eq "a" or userName eq "b" or userName eq "c" and active eq true')
    assert sql.count(" OR ") == 2 and sql.count(" AND ") == 1
    assert values == ["a", "b", "c", True]


def test_id_eq_uuid_uses_the_primary_key_and_other_text_matches_nothing() -> None:
    ident = "2819C223-7F76-453A-919D-413861904646"
    sql, values = users(f'id eq "{ident}"')
    assert sql == "(u.id = $2::uuid)" and values == [uuid.UUID(ident)]
    sql, values = users('id eq "not-a-uuid"')
    assert sql == "(u.id::text = $2::text)" and values == ["not-a-uuid"]


def test_jsonb_paths_for_core_complex_and_enterprise_attributes() -> None:
    sql, _ = users('name.familyName eq "Jensen"')
    assert "u.doc->'name'->>'familyName'" in sql
    sql, _ = users(f'{ENTERPRISE}:department eq "Sales"')
    assert f"u.doc->'{ENTERPRISE}'->>'department'" in sql
    sql, _ = users('department eq "Sales"')  # found in the extension without its URN
    assert f"u.doc->'{ENTERPRISE}'->>'department'" in sql
    sql, _ = users(f'{ENTERPRISE}:manager.value eq "42"')
    assert f"u.doc->'{ENTERPRISE}'->'manager'->>'value'" in sql


def test_multi_valued_attribute_means_any_element_value() -> None:
    expected = (
        "EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(u.doc->'emails', '[]'::jsonb)) AS e1(v) "
        "WHERE (lower(e1.v->>'value') = lower($2::text)))"
    )
    assert users('emails eq "a@example.com"')[0] == expected
    assert users('emails.value eq "a@example.com"')[0] == expected
    sql, _ = users('emails.value ne "a@example.com"')
    assert sql.startswith("(NOT EXISTS (")


def test_value_path_and_entra_form_compile_to_one_exists() -> None:
    sql, values = users('emails[type eq "work"].value eq "x@example.com"')
    assert sql.count("EXISTS") == 1
    assert (
        "lower(e1.v->>'type') = lower($2::text)" in sql and "lower(e1.v->>'value') = lower($3::text)" in sql
    )
    assert values == ["work", "x@example.com"]
    sql, values = users('emails[type eq "work" and primary eq true]')
    assert "lower(e1.v->>'primary') = $3::text" in sql and values == ["work", "true"]


def test_presence_checks_for_null_and_empty() -> None:
    sql, values = users("title pr")
    assert sql == "(u.doc->'title' NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb))"
    assert values == []
    assert users("externalId pr")[0] == "(u.external_id IS NOT NULL AND u.external_id <> '')"
    assert "emails" in users("emails pr")[0]


def test_null_comparisons_mean_absence() -> None:
    assert users("title eq null")[0] == "((" + users("title pr")[0] + ") IS NOT TRUE)"
    assert users("title ne null")[0] == users("title pr")[0]
    with pytest.raises(InvalidFilter):
        users("title gt null")


def test_datetime_values_are_parsed_with_seven_fraction_digits() -> None:
    sql, values = users("meta.created gt 2015-10-10T14:38:21.8617979-07:00")
    assert sql == "(u.created_at > $2::timestamptz)"
    assert values == [datetime(2015, 10, 10, 14, 38, 21, 861797, tzinfo=timezone(timedelta(hours=-7)))]
    _, values = users('meta.lastModified le "2020-01-02T03:04:05"')
    assert values == [datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)]


@pytest.mark.parametrize(
    "text", ['meta.created gt "yesterday"', "meta.created gt 42", 'meta.created co "2015"']
)
def test_bad_datetime_comparisons_are_invalid_filter(text: str) -> None:
    with pytest.raises(InvalidFilter):
        users(text)


def test_booleans_coerce_strings_and_refuse_ordering() -> None:
    assert users('active eq "False"') == ("(u.active = $2::boolean)", [False])
    assert users("active ne TRUE") == ("(u.active IS DISTINCT FROM $2::boolean)", [True])
    for text in ("active gt true", 'active eq "yes"', "active co true", "active eq 1"):
        with pytest.raises(InvalidFilter):
            users(text)


def test_custom_extension_keys_are_bind_parameters() -> None:
    sql, values = users('badgeCode eq "B-7"')
    assert sql == "(lower(u.doc->$2::text->>$3::text) = lower($4::text))"
    assert values == [CUSTOM_URN, "badgeCode", "B-7"]
    assert CUSTOM_URN not in sql
    sql, values = users("clearance ge 3")
    assert "::numeric" in sql and values[-1] == Decimal(3)
    sql, values = users('hiredOn lt "2020-01-01"')
    assert "::timestamptz" in sql and values[-1] == datetime(2020, 1, 1, tzinfo=UTC)
    sql, values = users('remote eq "true"')
    assert values[-1] == "true"
    sql, values = users('tags eq "blue"')
    assert "#>> '{}'" in sql and values == [CUSTOM_URN, "tags", "blue"]


def test_placeholders_are_contiguous_from_start() -> None:
    sql, values = users(
        'badgeCode eq "B" and emails[type eq "work"].value co "@x"'
        ' or not (tags eq "t") and meta.created gt "2020-01-01"',
        start=5,
    )
    assert placeholders(sql) == list(range(5, 5 + len(values)))


@pytest.mark.parametrize(
    "text",
    [
        'nosuch eq "x"',
        'urn:nope:params:x:thing eq "x"',
        'password eq "secret"',
        'meta.version eq "W/\\"1\\""',
        'meta.resourceType eq "User"',
        'meta eq "x"',
        'name eq "x"',
        'name.nosuch eq "x"',
        'title.sub eq "x"',
        'name[givenName eq "x"]',
        'emails[nosuch eq "x"]',
        'emails[value.x eq "x"]',
        f'emails[{ENTERPRISE}:department eq "x"]',
        'photo gt "abc"',
        "clearance co 3",
        'clearance eq "many"',
        'x509Certificates.value lt "a"',
    ],
)
def test_unfilterable_paths_and_operators_are_invalid_filter(text: str) -> None:
    with pytest.raises(InvalidFilter):
        users(text)


def test_group_columns_and_membership() -> None:
    assert groups('displayName eq "Admins"') == ("(lower(g.display_name) = lower($2::text))", ["Admins"])
    member = "2819c223-7f76-453a-919d-413861904646"
    sql, values = groups(f'members.value eq "{member}"')
    assert sql == (
        "EXISTS (SELECT 1 FROM directory.memberships m1 WHERE m1.group_id = g.id AND "
        "(lower(m1.user_id::text) = lower($2::text)))"
    )
    assert values == [member]
    assert groups(f'members eq "{member}"')[0] == sql
    assert "m1.group_id = g.id AND" in groups(f'members[value eq "{member}"]')[0]
    assert (
        groups("members pr")[0] == "EXISTS (SELECT 1 FROM directory.memberships m1 WHERE m1.group_id = g.id)"
    )
    for bad in ('members.display eq "x"', 'members[type eq "User"]', 'userName eq "x"', 'emails eq "x"'):
        with pytest.raises(InvalidFilter):
            groups(bad)


def test_user_groups_compile_to_membership_rows() -> None:
    sql, _ = users('groups.value eq "g1"')
    assert "FROM directory.memberships m1 WHERE m1.user_id = u.id" in sql and "m1.group_id::text" in sql


_MARK = "Zq9"


# NUL is excluded here: PostgreSQL text cannot hold it, so it is refused (test below), not bound.
@given(st.text(min_size=0, max_size=40).filter(lambda t: "\x00" not in t))
def test_no_user_text_ever_reaches_the_sql(tail: str) -> None:
    value = _MARK + tail
    literal = json.dumps(value)
    for template in (
        "userName eq {v}",
        "userName co {v}",
        "name.familyName sw {v}",
        "emails[type eq {v}].value ew {v}",
        "not (badgeCode ne {v})",
        "id eq {v}",
    ):
        sql, values = users(template.format(v=literal))
        assert _MARK not in sql
        assert any(isinstance(x, str) and _MARK in x for x in values)


def test_a_nul_character_in_a_compared_value_is_an_invalid_filter() -> None:
    with pytest.raises(InvalidFilter):
        users('userName eq "a\\u0000b"')


def test_injection_attempts_stay_in_parameters() -> None:
    sql, values = users('userName eq "x\' OR 1=1 --"')
    assert "OR 1=1" not in sql and values == ["x' OR 1=1 --"]


def test_unsafe_alias_and_unknown_resource_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        compile_filter(parse_filter("title pr"), USERS, "u; drop", SqlParams())
    other = ResourceSchema(name="Device", endpoint="/Devices", description="", core=CUSTOM)
    with pytest.raises(ValueError):
        compile_filter(parse_filter("badgeCode pr"), other, "d", SqlParams())


@pytest.mark.parametrize(
    ("sort_by", "expected"),
    [
        ("userName", "lower(u.user_name)"),
        ("USERNAME", "lower(u.user_name)"),
        ("externalId", "u.external_id"),
        ("meta.created", "u.created_at"),
        ("id", "u.id"),
        ("name.familyName", "lower(u.doc->'name'->>'familyName')"),
        (f"{ENTERPRISE}:department", f"lower(u.doc->'{ENTERPRISE}'->>'department')"),
        (
            "emails",
            "(SELECT lower(s1.v->>'value') FROM jsonb_array_elements(coalesce(u.doc->'emails', '[]'::jsonb))"
            " WITH ORDINALITY AS s1(v, n)"
            " ORDER BY lower(s1.v->>'primary') = 'true' DESC NULLS LAST, s1.n LIMIT 1)",
        ),
    ],
)
def test_compile_sort(sort_by: str, expected: str) -> None:
    assert compile_sort(sort_by, USERS, "u") == expected


def test_compile_sort_on_groups_and_custom_attributes() -> None:
    assert compile_sort("displayName", GROUP_RESOURCE, "g") == "lower(g.display_name)"
    params = SqlParams(start=2)
    sql = compile_sort("badgeCode", USERS, "u", params)
    assert sql == "lower(u.doc->$2::text->>$3::text)" and params.values == [CUSTOM_URN, "badgeCode"]


@pytest.mark.parametrize(
    "sort_by", ["nosuch", "name", "password", "meta.version", "a b", "badgeCode", "groups"]
)
def test_compile_sort_refusals_are_invalid_value(sort_by: str) -> None:
    with pytest.raises(InvalidValue, match="sortBy"):
        compile_sort(sort_by, USERS, "u")
    with pytest.raises(InvalidValue):
        compile_sort("members", GROUP_RESOURCE, "g")
