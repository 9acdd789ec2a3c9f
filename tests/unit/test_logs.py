"""JSON log lines: trace ids, the bound workspace and portal, and never a secret."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from suite_common.logs import JsonFormatter, bind, redact

TOKEN = "scim_" + "Q9x-2mAb7_kLp0ZzY3vW8rTt5uE1oIcN4hGfDsJq6"


def line(msg: str, *args: object, exc: bool = False, **extra: Any) -> dict[str, Any]:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, msg, args or None, None)
    if exc:
        try:
            raise RuntimeError(f"connect failed: postgresql://scim:hunter2secret@db:5432/scim token={TOKEN}")
        except RuntimeError:
            record.exc_info = sys.exc_info()
    for key, value in extra.items():
        setattr(record, key, value)
    parsed: dict[str, Any] = json.loads(JsonFormatter("directory").format(record))
    return parsed


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {TOKEN}",
        f"Authorization: {TOKEN}",  # Okta's header mode sends the bare token
        "x-admin-token: 8f3kD9sLq0pW2xZr7TyU",
        'payload {"password": "1mz050nq-very-secret"}',
        "DATABASE_URL=postgresql://scim:hunter2secret@db:5432/scim",
        "nats://relay:s3cr3t-pass@nats:4222",
    ],
)
def test_secrets_in_messages_are_masked(text: str) -> None:
    rendered = json.dumps(line("got %s", text))
    for secret in (TOKEN, "8f3kD9sLq0pW2xZr7TyU", "1mz050nq-very-secret", "hunter2secret", "s3cr3t-pass"):
        assert secret not in rendered
    assert "[redacted]" in rendered


def test_secret_fields_and_nested_values_are_masked_but_counts_are_kept() -> None:
    out = line(
        "issued",
        token=TOKEN,
        admin_token="correct-horse-battery",
        headers={"Authorization": "Bearer abcdefgh12345678", "User-Agent": "Okta SCIM Client 1.0.0"},
        active_tokens=2,
        dsn_list=["postgresql://u:pw-in-a-list@h/db"],
    )
    assert out["token"] == out["admin_token"] == "[redacted]"
    assert out["headers"] == {"Authorization": "[redacted]", "User-Agent": "Okta SCIM Client 1.0.0"}
    assert out["active_tokens"] == 2
    assert "pw-in-a-list" not in json.dumps(out)


def test_tracebacks_are_masked_too() -> None:
    out = line("failed", exc=True)
    assert "RuntimeError" in out["exc"]
    assert "hunter2secret" not in out["exc"] and TOKEN not in out["exc"]


def test_ordinary_text_is_left_alone() -> None:
    text = "created user test.user@okta.local in workspace ws-1 with 3 tokens"
    assert redact(text) == text


def test_lines_carry_trace_and_span_ids_inside_a_span() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        out = line("inside")
    ctx = span.get_span_context()
    assert out["trace_id"] == format(ctx.trace_id, "032x")
    assert out["span_id"] == format(ctx.span_id, "016x")
    assert "trace_id" not in line("outside")


async def test_bound_workspace_and_portal_stay_within_their_task() -> None:
    async def handle(workspace: str) -> dict[str, Any]:
        bind(workspace=workspace, portal="store")
        await asyncio.sleep(0)  # let the other task bind its own values in between
        return line("event applied")

    first, second = await asyncio.gather(handle("ws-a"), handle("ws-b"))
    assert (first["workspace"], first["portal"]) == ("ws-a", "store")
    assert second["workspace"] == "ws-b"
    assert "workspace" not in line("no task bound anything here")
    assert line("explicit wins", workspace="ws-x")["workspace"] == "ws-x"
