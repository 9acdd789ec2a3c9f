"""People and groups of one portal (searchable, keyset-paged), a group's members, and a person's page
with their account and one timeline of SCIM requests, directory events, portal actions and the security
event tokens (SETs, RFC 9967) built for the person."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from scimsuite.console.v1 import console_pb2
from scimsuite.events_out.v1 import events_out_pb2
from scimsuite.portal.v1 import portal_pb2
from suite_common import jsonutil

from admin_console.adapters.backend import Backend, BackendError, NotFound
from admin_console.entrypoints.http.context import BACKEND, Portal, connected_portal, name_of
from admin_console.entrypoints.http.render import page

log = logging.getLogger(__name__)

PAGE = 50
TIMELINE = 100


async def people(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, connection = await connected_portal(request)
    q = request.query.get("q", "").strip()[:300]
    reply = await backend.call(
        backend.console.ListPeople,
        console_pb2.ListPeopleRequest(
            connection_id=connection.id, query=q, after=request.query.get("after", "")[:300], limit=PAGE
        ),
    )
    return page(
        request,
        "people.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "people": list(reply.people),
            "q": q,
            "next_after": reply.next_after,
        },
    )


async def groups(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, connection = await connected_portal(request)
    q = request.query.get("q", "").strip()[:300]
    reply = await backend.call(
        backend.console.ListGroupsPage,
        console_pb2.ListGroupsPageRequest(
            connection_id=connection.id, query=q, after=request.query.get("after", "")[:300], limit=PAGE
        ),
    )
    return page(
        request,
        "groups.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "groups": list(reply.groups),
            "q": q,
            "next_after": reply.next_after,
        },
    )


async def group(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, connection = await connected_portal(request)
    reply = await backend.call(
        backend.console.ListMembers,
        console_pb2.ListMembersRequest(
            connection_id=connection.id,
            group_id=request.match_info["group"],
            after=request.query.get("after", "")[:100],
            limit=PAGE,
        ),
    )
    return page(
        request,
        "group.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "group": reply.group,
            "members": list(reply.members),
            "next_after": reply.next_after,
        },
    )


@dataclass
class TimelineItem:
    at: str
    request: console_pb2.LogEntry | None = None
    actions: list[portal_pb2.AuditEntry] = field(default_factory=list)
    # The SETs built from this item's directory events, one per receiver that subscribed to them.
    sets: list[events_out_pb2.SubjectSet] = field(default_factory=list)


def timeline(
    entries: list[console_pb2.LogEntry],
    audit: list[portal_pb2.AuditEntry],
    sets: Sequence[events_out_pb2.SubjectSet] = (),
) -> list[TimelineItem]:
    """One list, newest first: each SCIM request with the directory events and portal actions it caused
    (linked by request id) and the SETs built from those events (a SET's `txn` is the directory event id,
    RFC 9967 §2.2, which the portal's audit entries carry too). Actions whose request is not in the log
    stand alone, and so do the SETs of an event no action of the timeline names, at their build time."""
    by_request: dict[str, TimelineItem] = {}
    items: list[TimelineItem] = []
    for e in entries:
        item = TimelineItem(at=e.at, request=e)
        items.append(item)
        if e.request_id:
            by_request.setdefault(e.request_id, item)
    for a in audit:
        owner = by_request.get(a.request_id) if a.request_id else None
        if owner is not None:
            owner.actions.append(a)
        else:
            items.append(TimelineItem(at=a.at, actions=[a]))
    by_event: dict[str, TimelineItem] = {}
    for item in items:
        for a in item.actions:
            if a.event_id:
                by_event.setdefault(a.event_id, item)
    for s in sets:
        owner = by_event.get(s.txn)
        if owner is None:
            owner = by_event[s.txn] = TimelineItem(at=s.created_at)
            items.append(owner)
        owner.sets.append(s)
    items.sort(key=lambda i: i.at, reverse=True)
    return items


@dataclass(frozen=True)
class PersonSets:
    """What security-events holds for a person: `has_stream` is False when the portal has no SET stream,
    `unavailable` True when security-events could not be asked."""

    sets: list[events_out_pb2.SubjectSet]
    has_stream: bool
    unavailable: bool = False


async def person_sets(backend: Backend, p: Portal, user_id: str) -> PersonSets:
    """The SETs built for `/Users/<id>` in this (workspace, portal). security-events is no dependency of
    the person page: when it fails, the page says so and shows the rest of the timeline."""
    try:
        reply = await backend.call(
            backend.events.ListSubjectSets,
            events_out_pb2.ListSubjectSetsRequest(
                workspace_id=p.workspace.id, portal=p.portal, subject=f"/Users/{user_id}", limit=TIMELINE
            ),
        )
    except BackendError as exc:
        log.warning("security events not loaded", extra={"user_id": user_id, "error": str(exc)})
        return PersonSets([], has_stream=False, unavailable=True)
    return PersonSets(list(reply.sets), reply.has_stream)


async def _account(backend: Backend, p: Portal, user_id: str) -> portal_pb2.Account | None:
    try:
        account: portal_pb2.Account = await backend.call(
            backend.console_portal.GetAccount,
            console_pb2.GetAccountRequest(workspace_id=p.workspace.id, portal=p.portal, user_id=user_id),
        )
    except NotFound:
        return None
    return account


async def _log_of(backend: Backend, connection_id: str, ref: str) -> list[console_pb2.LogEntry]:
    reply = await backend.call(
        backend.console.ListRequestLog,
        console_pb2.ListRequestLogRequest(connection_id=connection_id, user=ref, limit=TIMELINE),
    )
    return list(reply.entries)


async def person(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p, connection = await connected_portal(request)
    user = await backend.call(
        backend.console.GetPerson,
        console_pb2.GetPersonRequest(connection_id=connection.id, user_id=request.match_info["user"]),
    )
    # Everything below needs only the person: asked side by side, the page waits for the slowest call, not
    # for the sum of five.
    account, by_id, by_name, audit, sets = await asyncio.gather(
        _account(backend, p, user.id),
        _log_of(backend, connection.id, user.id),
        _log_of(backend, connection.id, user.user_name),
        backend.call(
            backend.portal.QueryAudit,
            portal_pb2.QueryAuditRequest(
                workspace_id=p.workspace.id, user_name=user.user_name, limit=TIMELINE
            ),
        ),
        person_sets(backend, p, user.id),
    )
    seen = {e.id: e for e in [*by_id, *by_name]}
    actions = [a for a in audit.entries if a.portal == p.portal and (not a.user_id or a.user_id == user.id)]
    entries = sorted(seen.values(), key=lambda e: e.id, reverse=True)[:TIMELINE]
    metadata: Any = jsonutil.loads(account.metadata_json) if account and account.metadata_json else {}
    resource = jsonutil.dumps(jsonutil.loads(user.resource_json)).decode() if user.resource_json else "{}"
    return page(
        request,
        "person.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "user": user,
            "account": account,
            "metadata": metadata,
            "resource": resource,
            "timeline": timeline(entries, actions, sets.sets),
            "sets": sets,
        },
    )
