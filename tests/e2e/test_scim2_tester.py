"""The public conformance checker `scim2-tester` against a live tenant of the edge.

It discovers the server from /ServiceProviderConfig, /ResourceTypes and /Schemas, then creates, reads,
queries, replaces, patches and deletes Users and Groups attribute by attribute. The test fails on any
ERROR, CRITICAL or DEVIATION verdict. Two verdicts are re-judged here, narrowly, because the checker is
wrong about them (see `_checker_misreads_read_only_display`); everything else must pass as reported.
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


def _checker_misreads_read_only_display(result: CheckResult) -> bool:
    """True only for a Group `members` add/replace verdict whose sole difference is `members[].display`.

    The checker PATCHes `members` and then compares the members it sent with the ones returned, field by
    field. Our /Schemas publishes `members.display` as readOnly: the server derives it from the member
    (RFC 7643 §8.7.1 defines no client-settable `display` for Group members), so the checker neither sends
    it nor may expect it absent; RFC 7643 §2.2 lets the service provider assign readOnly values. Any other
    difference (a missing member, a wrong value, $ref or type) still fails.
    """
    data = result.data if isinstance(result.data, dict) else {}
    if result.resource_type != "Group" or data.get("urn") != "members":
        return False
    actual = data.get("modify_actual", data.get("actual"))
    if "expected" not in data or actual is None:
        return False

    def without_display(members: Any) -> list[dict[str, Any]]:
        return [{k: v for k, v in m.items() if k != "display"} for m in _dump(members) or []]

    expected = _dump(data["expected"])
    sent_display = any(m.get("display") for m in expected or [])
    return not sent_display and without_display(expected) == without_display(actual)


async def test_scim2_tester_finds_no_failure(scim: ScimClient) -> None:
    results = await asyncio.to_thread(_run_checker, scim.base, scim.auth)
    failures = [r for r in results if r.status in FAILING and not _checker_misreads_read_only_display(r)]
    assert not failures, "\n".join(
        f"{r.status.name} {r.resource_type} {r.title}: {r.reason}" for r in failures
    )
    skipped = {r.title for r in results if r.status == Status.SKIPPED}
    assert skipped <= EXPECTED_SKIPS, skipped
    # The run really exercised the server: discovery plus CRUD and PATCH checks for both resource types.
    succeeded = [r for r in results if r.status == Status.SUCCESS]
    assert len(succeeded) >= 100, len(succeeded)
    assert {r.resource_type for r in succeeded} >= {"User", "Group"}
