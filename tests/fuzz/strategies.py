"""Hypothesis strategies for hostile SCIM input: filters from the RFC 7644 §3.4.2.2 grammar and beyond it,
PATCH bodies (§3.5.2), resource bodies, header values, and extreme shapes (deep, long, many)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# Text that reaches storage: control characters and NUL included (PostgreSQL refuses NUL in jsonb text).
texts = st.text(st.characters(codec="utf-8"), max_size=30)
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                texts,
                st.sampled_from(
                    [
                        "value",
                        "display",
                        "type",
                        "primary",
                        "active",
                        "members",
                        "userName",
                        "emails",
                        "$ref",
                        "schemas",
                    ]
                ),
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)

ATTRIBUTES = [
    "userName",
    "UserName",
    "name.givenName",
    "name.familyName",
    "name",
    "displayName",
    "title",
    "active",
    "emails",
    "emails.value",
    "emails.type",
    "emails.primary",
    "phoneNumbers.value",
    "addresses.locality",
    "externalId",
    "id",
    "meta",
    "meta.created",
    "meta.lastModified",
    "meta.resourceType",
    "meta.version",
    "members",
    "members.value",
    "members.display",
    "groups",
    "groups.value",
    "password",
    "x",
    "x.y.z",
    f"{USER_URN}:userName",
    f"{USER_URN}:name.givenName",
    f"{ENTERPRISE_URN}:department",
    f"{ENTERPRISE_URN}:manager.value",
    "urn:x:y:z",
    "urn:",
    ":",
    'emails[type eq "work"]',
    "",
]
OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co", "pr", "xx", "=", "=="]


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)


comparison_values = st.one_of(
    texts.map(json.dumps),
    texts.map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.integers().map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(
        [
            "true",
            "false",
            "null",
            '"2024-01-01T00:00:00Z"',
            '"not-a-date"',
            "1e999",
            "-0",
            "NaN",
            '"',
            "'x'",
            '""',
            "[]",
            "{}",
            '"\\u0000"',
            '"\\ud800"',
        ]
    ),
    printable,
)
attributes = st.one_of(st.sampled_from(ATTRIBUTES), printable)
simple_filters = st.one_of(
    st.builds(lambda a, o, v: f"{a} {o} {v}", attributes, st.sampled_from(OPERATORS), comparison_values),
    st.builds(lambda a: f"{a} pr", attributes),
)
filters: st.SearchStrategy[str] = (
    st.recursive(
        simple_filters,
        lambda inner: st.one_of(
            st.builds(
                lambda a, b, op: f"{a} {op} {b}",
                inner,
                inner,
                st.sampled_from(["and", "or", "AND", "Or", "xor"]),
            ),
            inner.map(lambda f: f"not ({f})"),
            inner.map(lambda f: f"({f})"),
            st.builds(
                lambda a, f: f"{a}[{f}]", st.sampled_from(["emails", "members", "addresses", "x"]), inner
            ),
            st.builds(lambda f, cut: f[: len(f) * cut // 4], inner, st.integers(1, 3)),  # truncated mid-token
        ),
        max_leaves=6,
    )
    | printable
    | texts
)

list_params = st.fixed_dictionaries(
    {},
    optional={
        "filter": filters,
        "sortBy": st.one_of(attributes, printable),
        "sortOrder": st.sampled_from(["ascending", "descending", "DESC", "", "up"]) | printable,
        "attributes": st.lists(attributes, max_size=4).map(",".join) | printable,
        "excludedAttributes": st.lists(attributes, max_size=4).map(",".join) | printable,
        "startIndex": st.integers(-(2**70), 2**70).map(str) | printable,
        "count": st.integers(-(2**70), 2**70).map(str) | printable,
        "cursor": printable | texts,
    },
)

PATCH_PATHS = [
    "active",
    "title",
    "displayName",
    "userName",
    "name.givenName",
    "name",
    "emails",
    'emails[type eq "work"]',
    'emails[type eq "work"].value',
    "emails[primary eq true].value",
    "members",
    'members[value eq "x"]',
    "members[value pr]",
    "members.value",
    "id",
    "meta",
    "meta.version",
    "schemas",
    "groups",
    "password",
    f"{ENTERPRISE_URN}:department",
    f"{ENTERPRISE_URN}:manager",
    f"{USER_URN}:title",
    "urn:x:y",
    "x",
    "",
    "emails[",
    'members[value eq "x"].display',
    'phoneNumbers[type eq "work" and value co "1"].value',
]
patch_ops = st.fixed_dictionaries(
    {
        "op": st.sampled_from(["add", "remove", "replace", "Add", "Replace", "REMOVE", "move", "copy", ""])
        | json_scalars
    },
    optional={"path": st.sampled_from(PATCH_PATHS) | printable | json_scalars, "value": json_values},
)
patch_bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "schemas": st.sampled_from([[PATCH_URN], [], ["x"], PATCH_URN, None]),
            "Operations": st.lists(patch_ops, max_size=5),
        }
    ),
    st.fixed_dictionaries({"schemas": st.just([PATCH_URN]), "Operations": json_values}),
    json_values,
)

USER_KEYS = [
    "userName",
    "name",
    "displayName",
    "emails",
    "active",
    "title",
    "externalId",
    "groups",
    "id",
    "meta",
    "schemas",
    "password",
    "phoneNumbers",
    "addresses",
    ENTERPRISE_URN,
    "urn:x:custom",
    "UserName",
    "members",
    "displayName",
]
# Near-valid resources: a string userName / displayName, so that many cases get past the first check and
# reach normalisation, storage and rendering.
near_valid = st.builds(
    lambda name, extra: {"userName": name, "displayName": name, **extra},
    texts.filter(bool),
    st.dictionaries(st.sampled_from(USER_KEYS), json_values | texts, max_size=6),
)
resource_bodies = st.one_of(
    near_valid,
    st.dictionaries(st.sampled_from(USER_KEYS) | texts, json_values, max_size=8),
    json_values,
)

header_values = printable
CONTENT_TYPES = [
    "application/scim+json",
    "application/json",
    "application/scim+json; charset=utf-8",
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin1",
    "",
    "*/*",
    "application/x-www-form-urlencoded",
]
