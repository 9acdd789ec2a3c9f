"""A person's timeline: each SCIM request with the portal actions it caused (same request id), newest
first; actions whose request is not in the log stand alone; a SET hangs under the item whose action has its
`txn` as event id, or stands alone at its build time. The IdP is told from the User-Agent."""

from __future__ import annotations

from admin_console.entrypoints.http.filters import event_uri_parts
from admin_console.entrypoints.http.people import timeline
from directory.domain.idp import idp_from_user_agent
from scimsuite.console.v1 import console_pb2
from scimsuite.events_out.v1 import events_out_pb2
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


def test_sets_hang_under_the_item_with_their_event_or_stand_alone() -> None:
    create = console_pb2.LogEntry(id=1, at="2026-12-01T10:00:00+00:00", request_id="r1", method="POST")
    employee = portal_pb2.AuditEntry(
        at="2026-12-01T10:00:01+00:00", request_id="r1", event_id="e1", action="create-employee"
    )
    # Its request fell out of the log: the action stands alone, and its SET joins it there.
    removal = portal_pb2.AuditEntry(at="2026-12-01T12:00:00+00:00", request_id="gone", event_id="e3")
    to_push = events_out_pb2.SubjectSet(jti="j1", txn="e1", created_at="2026-12-01T10:00:02+00:00")
    to_poll = events_out_pb2.SubjectSet(jti="j2", txn="e1", created_at="2026-12-01T10:00:02+00:00")
    # A change no portal action names (a title edit): its two SETs make one item of their own.
    at = "2026-12-01T11:00:00+00:00"
    title = [events_out_pb2.SubjectSet(jti=j, txn="e2", created_at=at) for j in ("j3", "j4")]
    removed = events_out_pb2.SubjectSet(jti="j5", txn="e3", created_at="2026-12-01T12:00:01+00:00")
    items = timeline([create], [employee, removal], [removed, *title, to_push, to_poll])
    assert [(i.at, [a.event_id for a in i.actions], [s.jti for s in i.sets]) for i in items] == [
        ("2026-12-01T12:00:00+00:00", ["e3"], ["j5"]),
        ("2026-12-01T11:00:00+00:00", [], ["j3", "j4"]),
        ("2026-12-01T10:00:00+00:00", ["e1"], ["j1", "j2"]),
    ]
    assert items[1].request is None and items[2].request is create
    assert timeline([create], [employee])[0].sets == []


def test_event_uris_are_shortened_for_display_only() -> None:
    uri = "urn:ietf:params:scim:event:prov:patch:full"
    assert event_uri_parts(uri) == ("urn:ietf:params:scim:event:", "prov:patch:full")
    assert "".join(event_uri_parts(uri)) == uri
    assert event_uri_parts("urn:example:other") == ("", "urn:example:other")


def test_the_idp_comes_from_the_user_agent() -> None:
    assert idp_from_user_agent("Okta SCIM Client 1.0.0") == "okta"
    assert idp_from_user_agent("OKTA SCIM Integration") == "okta"
    assert idp_from_user_agent("Microsoft.Identity.Provisioning") == "entra"
    assert idp_from_user_agent("") == "other"
    assert idp_from_user_agent("curl/8.5") == "other"
