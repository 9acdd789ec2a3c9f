"""The provisioning log keeps no secret: passwords and tokens are redacted before a body leaves the edge,
non-JSON bodies are not kept, and kept bodies are cut at the configured size."""

from __future__ import annotations

import json

from scim_edge.provisioning_log.record import Seen, build
from scim_edge.provisioning_log.redact import REDACTED, keep, redact


def test_password_and_token_like_keys_are_redacted_at_any_depth() -> None:
    body = {
        "userName": "jane",
        "password": "hunter2",
        "urn:example:ext": {"apiToken": "t0k", "nested": [{"clientSecret": "s"}]},
    }
    out = redact(body)
    assert out["userName"] == "jane"
    assert out["password"] == REDACTED
    assert out["urn:example:ext"]["apiToken"] == REDACTED
    assert out["urn:example:ext"]["nested"][0]["clientSecret"] == REDACTED


def test_patch_operations_on_password_redact_their_value() -> None:
    """RFC 7644 §3.5.2: a PATCH may set the password through `path`, or inside a pathless value."""
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "password", "value": "hunter2"},
            {"op": "replace", "value": {"password": "hunter3", "active": True}},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "x"},
            {"op": "replace", "path": "displayName", "value": "Jane"},
        ],
    }
    text = keep(json.dumps(patch).encode(), 4096, 1 << 20).text
    assert "hunter" not in text and '"x"' not in text
    assert '"Jane"' in text


def test_non_json_and_oversized_bodies_are_not_kept() -> None:
    assert "not kept" in keep(b"password=hunter2", 4096, 1 << 20).text
    big = json.dumps({"userName": "a" * 5000}).encode()
    assert "not kept" in keep(big, 4096, 1000).text


def test_kept_bodies_are_cut_at_the_limit_on_a_character_boundary() -> None:
    kept = keep(json.dumps({"displayName": "é" * 3000}).encode(), 100, 1 << 20)
    assert kept.truncated
    assert len(kept.text.encode()) <= 100 + len("…".encode())
    assert kept.text.endswith("…")


def _seen(**kw: object) -> Seen:
    base: dict[str, object] = {
        "connection_id": "c0ffee00-0000-0000-0000-000000000000",
        "started_at": 1_700_000_000.0,
        "latency_ms": 3.5,
        "request_id": "req-1",
        "method": "GET",
        "path_tail": "/Users",
        "query": 'filter=userName%20eq%20"jane"',
        "status": 200,
        "user_agent": "Okta SCIM Client 1.0.0",
        "token_sha256": b"\x00" * 32,
        "request_body": b"",
        "response_body": b'{"totalResults":0}',
    }
    base.update(kw)
    return Seen(**base)  # type: ignore[arg-type]


def test_a_record_names_the_resource_the_user_and_the_error() -> None:
    lookup = build(_seen(query='filter=userName eq "jane@example.com"'), "/scim/v2", 4096, 1 << 20)
    assert (lookup.resource_type, lookup.user_name) == ("User", "jane@example.com")
    assert lookup.path == "/scim/v2/c0ffee00-0000-0000-0000-000000000000/Users"

    created = build(
        _seen(
            method="POST",
            status=201,
            query="",
            request_body=b'{"userName":"bob","password":"p"}',
            response_body=b'{"id":"u-1","userName":"bob"}',
        ),
        "/scim/v2",
        4096,
        1 << 20,
    )
    assert (created.resource_id, created.user_name) == ("u-1", "bob")
    assert '"p"' not in created.request_body

    failed = build(
        _seen(
            method="PATCH",
            path_tail="/Users/u-1",
            status=400,
            query="",
            response_body=b'{"scimType":"invalidValue","detail":"bad active"}',
        ),
        "/scim/v2",
        4096,
        1 << 20,
    )
    assert (failed.resource_id, failed.scim_type, failed.detail) == ("u-1", "invalidValue", "bad active")


def test_a_body_let_go_at_capture_is_named_by_its_size() -> None:
    kept = keep(b"", 4096, 1000, original_size=5000)
    assert kept.truncated and "5000 bytes not kept" in kept.text
