"""A person's timeline: each SCIM request with the portal actions it caused (same request id), newest
first; actions whose request is not in the log stand alone. The IdP is told from the User-Agent."""

from __future__ import annotations

from admin_console.entrypoints.http.people import timeline
from directory.domain.idp import idp_from_user_agent
from scimsuite.console.v1 import console_pb2
from scimsuite.portal.v1 import portal_pb2


def test_actions_hang_under_the_request_that_caused_them() -> None:
    lookup = console_pb2.LogEntry(id=1, at="2026-12-01T10:00:00+00:00", request_id="r1", method="GET")
    create = console_pb2.LogEntry(id=2, at="2026-12-01T10:00:01+00:00", request_id="r2", method="POST")
    employee = portal_pb2.AuditEntry(
        at="2026-12-01T10:00:02+00:00", request_id="r2", action="create-employee"
    )
    # A later membership change whose request fell out of the log's retention.
    orphan = portal_pb2.AuditEntry(at="2026-12-01T11:00:00+00:00", request_id="gone", action="join-group")
    items = timeline([create, lookup], [employee, orphan])
    assert [(i.request.request_id if i.request else None) for i in items] == [None, "r2", "r1"]
    assert [a.action for a in items[1].actions] == ["create-employee"]
    assert [a.action for a in items[0].actions] == ["join-group"] and items[2].actions == []


def test_the_idp_comes_from_the_user_agent() -> None:
    assert idp_from_user_agent("Okta SCIM Client 1.0.0") == "okta"
    assert idp_from_user_agent("OKTA SCIM Integration") == "okta"
    assert idp_from_user_agent("Microsoft.Identity.Provisioning") == "entra"
    assert idp_from_user_agent("") == "other"
    assert idp_from_user_agent("curl/8.5") == "other"
