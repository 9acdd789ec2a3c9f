"""The public conformance checker `scim2-tester` against a live tenant of the edge.

It discovers the server from /ServiceProviderConfig, /ResourceTypes and /Schemas, then creates, reads,
queries, replaces, patches and deletes Users and Groups attribute by attribute. The test fails on any
ERROR, CRITICAL or DEVIATION verdict, every verdict as the checker reports it: Group members read back as
sent (README "Group members read back as sent"), so its member comparisons need no re-judging.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import CheckResult, Status, check_server

from tests.support.scim_client import ScimClient

FAILING = {Status.ERROR, Status.CRITICAL, Status.DEVIATION}
# RFC 7644 §3.4.2.1/§3.4.3 queries at the server root span resource types; this server answers them with
# 501, which the checker itself reports as SKIPPED ("does not search several resource types at once").
EXPECTED_SKIPS = {"search_with_attributes"}


def _run_checker(base_url: str, authorization: str) -> list[CheckResult]:
    with httpx2.Client(base_url=base_url, headers={"Authorization": authorization}, timeout=30) as http:
        return check_server(SyncSCIMClient(http))


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value.model_dump() if hasattr(value, "model_dump") else value


async def test_scim2_tester_finds_no_failure(scim: ScimClient) -> None:
    results = await asyncio.to_thread(_run_checker, scim.base, scim.auth)
    failures = [r for r in results if r.status in FAILING]
    assert not failures, "\n".join(
        f"{r.status.name} {r.resource_type} {r.title}: {r.reason}" for r in failures
    )
    skipped = {r.title for r in results if r.status == Status.SKIPPED}
    assert skipped <= EXPECTED_SKIPS, skipped
    # The run really exercised the server: discovery plus CRUD and PATCH checks for both resource types.
    succeeded = [r for r in results if r.status == Status.SUCCESS]
    assert len(succeeded) >= 100, len(succeeded)
    assert {r.resource_type for r in succeeded} >= {"User", "Group"}
