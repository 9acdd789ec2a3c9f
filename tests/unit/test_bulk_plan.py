"""BulkRequest reading, dependency ordering and bulkId substitution (RFC 7644 §3.7)."""

from __future__ import annotations

from typing import Any

import pytest
from scim_core.bulk import (
    BulkOperation,
    parse_bulk_request,
    plan_operations,
    references,
    substitute,
)
from scim_core.errors import Conflict, InvalidSyntax, InvalidValue, PayloadTooLarge
from scim_core.schema.urns import BULK_REQUEST_URN, GROUP_URN, USER_URN


def request(*operations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"schemas": [BULK_REQUEST_URN], "Operations": list(operations), **extra}


def post_user(bulk_id: str, user_name: str, **attrs: Any) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/Users",
        "bulkId": bulk_id,
        "data": {"schemas": [USER_URN], "userName": user_name, **attrs},
    }


def post_group(bulk_id: str, *member_refs: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/Groups",
        "bulkId": bulk_id,
        "data": {
            "schemas": [GROUP_URN],
            "displayName": bulk_id,
            "members": [{"type": "User", "value": f"bulkId:{r}"} for r in member_refs],
        },
    }


def manager(ref: str) -> dict[str, Any]:
    return {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": f"bulkId:{ref}"}}
    }


def plan_of(*operations: dict[str, Any]) -> Any:
    return plan_operations(parse_bulk_request(request(*operations), max_operations=100).operations)


# -- reading ------------------------------------------------------------------------------------------


def test_rfc_7644_3_7_3_example_is_read_in_order() -> None:
    body = request(
        post_user("qwerty", "Alice"),
        {
            "method": "PUT",
            "path": "/Users/b7c14771",
            "version": 'W/"3694e05e9dff591"',
            "data": {"schemas": [USER_URN], "id": "b7c14771", "userName": "Bob"},
        },
        {
            "method": "PATCH",
            "path": "/Users/5d8d29d3",
            "version": 'W/"edac3253e2c0ef2"',
            "data": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "remove", "path": "nickName"}],
            },
        },
        {"method": "DELETE", "path": "/Users/e9025315", "version": 'W/"0ee8add0a938e1a"'},
        failOnErrors=1,
    )
    parsed = parse_bulk_request(body, max_operations=10)
    assert parsed.fail_on_errors == 1
    assert [(o.method, o.path, o.bulk_id, o.version) for o in parsed.operations] == [
        ("POST", "/Users", "qwerty", None),
        ("PUT", "/Users/b7c14771", None, 'W/"3694e05e9dff591"'),
        ("PATCH", "/Users/5d8d29d3", None, 'W/"edac3253e2c0ef2"'),
        ("DELETE", "/Users/e9025315", None, 'W/"0ee8add0a938e1a"'),
    ]
    assert all(o.error is None for o in parsed.operations)


def test_keys_and_methods_are_case_insensitive() -> None:
    parsed = parse_bulk_request(
        {"SCHEMAS": [BULK_REQUEST_URN.upper()], "operations": [{"Method": "delete", "PATH": "/Users/1"}]},
        max_operations=1,
    )
    assert parsed.operations[0].method == "DELETE" and parsed.operations[0].error is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"Operations": []},
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []},
        {"schemas": [BULK_REQUEST_URN], "Operations": {"method": "POST"}},
    ],
)
def test_a_malformed_message_fails_the_whole_request(body: Any) -> None:
    with pytest.raises(InvalidSyntax):
        parse_bulk_request(body, max_operations=10)


@pytest.mark.parametrize("value", [0, -1, "1", True, 1.5])
def test_fail_on_errors_must_be_a_positive_integer(value: Any) -> None:
    with pytest.raises(InvalidValue):
        parse_bulk_request(request(failOnErrors=value), max_operations=10)


def test_more_operations_than_max_operations_is_413() -> None:
    body = request(*[{"method": "DELETE", "path": f"/Users/{i}"} for i in range(3)])
    assert len(parse_bulk_request(body, max_operations=3).operations) == 3
    with pytest.raises(PayloadTooLarge):
        parse_bulk_request(body, max_operations=2)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("not an object", InvalidSyntax),
        ({"method": "GET", "path": "/Users/1"}, InvalidValue),
        ({"path": "/Users/1"}, InvalidValue),
        ({"method": "DELETE"}, InvalidSyntax),
        ({"method": "POST", "path": "/Users", "data": {"userName": "x"}}, InvalidSyntax),  # no bulkId
        ({"method": "POST", "path": "/Users", "bulkId": "", "data": {"userName": "x"}}, InvalidValue),
        ({"method": "PUT", "path": "/Users/1"}, InvalidSyntax),  # no data
        ({"method": "PATCH", "path": "/Users/1", "data": []}, InvalidSyntax),
    ],
)
def test_a_malformed_operation_fails_alone(raw: Any, error: type[Exception]) -> None:
    parsed = parse_bulk_request(request(raw, {"method": "DELETE", "path": "/Users/2"}), max_operations=10)
    assert isinstance(parsed.operations[0].error, error)
    assert parsed.operations[1].error is None


# -- references and substitution ----------------------------------------------------------------------


def test_references_are_found_in_nested_data_and_in_paths() -> None:
    data = {"members": [{"value": "bulkId:a"}, {"value": "plain"}], "x": {"y": ["bulkId:b"]}, "n": 3}
    assert references(data) == {"a", "b"}
    assert references("/Groups/bulkId:g") == {"g"}
    assert references("bulkId:") == frozenset()


def test_substitute_replaces_every_reference_and_leaves_the_rest() -> None:
    data = {"members": [{"value": "bulkId:a", "display": "bulkId is a word"}], "flag": True}
    assert substitute(data, {"a": "id-1"}) == {
        "members": [{"value": "id-1", "display": "bulkId is a word"}],
        "flag": True,
    }
    assert substitute("/Groups/bulkId:g", {"g": "id-2"}) == "/Groups/id-2"


def test_substitute_of_an_unresolved_bulk_id_is_409() -> None:
    with pytest.raises(Conflict):
        substitute({"value": "bulkId:missing"}, {})


# -- ordering -----------------------------------------------------------------------------------------


def test_without_references_the_request_order_is_kept() -> None:
    plan = plan_of(post_user("a", "a"), post_user("b", "b"), post_user("c", "c"))
    assert plan.steps == (0, 1, 2) and not plan.failures


def test_a_forward_reference_runs_the_declaring_post_first() -> None:
    plan = plan_of(post_group("g", "u1", "u2"), post_user("u1", "one"), post_user("u2", "two"))
    assert plan.steps == (1, 2, 0) and not plan.failures


def test_a_chain_of_forward_references_is_ordered_deepest_first() -> None:
    plan = plan_of(
        post_user("a", "a", **manager("b")), post_user("b", "b", **manager("c")), post_user("c", "c")
    )
    assert plan.steps == (2, 1, 0)


def test_a_path_reference_orders_a_patch_after_its_post() -> None:
    patch = {
        "method": "PATCH",
        "path": "/Groups/bulkId:g",
        "data": {"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:u"}]}]},
    }
    plan = plan_of(patch, post_group("g"), post_user("u", "u"))
    assert plan.steps == (1, 2, 0)


def test_a_cycle_fails_its_operations_with_409_and_spares_the_rest() -> None:
    plan = plan_of(
        post_user("a", "a", **manager("b")),
        post_user("b", "b", **manager("a")),
        post_user("c", "c"),
        post_group("g", "a"),  # depends on the cycle, fails later as unresolved
    )
    assert set(plan.failures) == {0, 1}
    assert all(isinstance(plan.failures[i], Conflict) for i in (0, 1))
    assert plan.steps[0] == 2 and set(plan.steps) == {0, 1, 2, 3}


def test_a_self_reference_is_a_cycle() -> None:
    plan = plan_of(post_user("a", "a", **manager("a")))
    assert isinstance(plan.failures[0], Conflict)


def test_a_long_chain_needs_no_recursion() -> None:
    ops = [post_user(f"u{i}", f"u{i}", **manager(f"u{i + 1}")) for i in range(1500)] + [
        post_user("u1500", "last")
    ]
    plan = plan_operations(parse_bulk_request(request(*ops), max_operations=2000).operations)
    assert plan.steps[:2] == (1500, 1499) and not plan.failures


def test_an_undeclared_bulk_id_is_invalid_value() -> None:
    plan = plan_of(post_group("g", "nobody"))
    assert isinstance(plan.failures[0], InvalidValue)


def test_a_duplicate_bulk_id_fails_the_second_declaration() -> None:
    plan = plan_of(post_user("a", "first"), post_user("a", "second"), post_group("g", "a"))
    assert set(plan.failures) == {1} and isinstance(plan.failures[1], InvalidValue)
    assert plan.steps == (0, 1, 2)


def test_a_reference_to_a_malformed_post_waits_for_it_and_is_not_undeclared() -> None:
    broken = {"method": "POST", "path": "/Users", "bulkId": "u", "data": "not an object"}
    plan = plan_of(post_group("g", "u"), broken)
    assert set(plan.failures) == {1}
    assert plan.steps == (1, 0)


def test_operations_keep_their_index() -> None:
    op = BulkOperation(7, "DELETE", "/Users/1")
    assert plan_operations([op]).steps == (7,)
