"""The console's gRPC services in the directory: RequestLogIngest (data port, for scim-edge) and
ConsoleDirectory (admin port, behind the admin-credential interceptor like DirectoryAdmin)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import grpc
from scimsuite.console.v1 import console_pb2, console_pb2_grpc
from suite_common import jsonutil

from directory.adapters.postgres import console_queries, request_log
from directory.adapters.postgres.request_log import LogFilter
from directory.service_layer import request_log as log_service

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]
MAX_PAGE = 500


class NotFound(LookupError):
    pass


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no {what} {value!r}") from None


def _limit(value: int, default: int = 50) -> int:
    return max(1, min(value or default, MAX_PAGE))


def _entry(r: asyncpg.Record) -> console_pb2.LogEntry:
    keys = r.keys()
    return console_pb2.LogEntry(
        id=r["id"],
        at=_iso(r["at"]),
        request_id=r["request_id"],
        method=r["method"],
        path=r["path"],
        query=r["query"],
        status=r["status"],
        scim_type=r["scim_type"],
        detail=r["detail"],
        latency_ms=r["latency_ms"],
        user_agent=r["user_agent"],
        idp=r["idp"],
        resource_type=r["resource_type"],
        resource_id=r["resource_id"],
        user_name=r["user_name"],
        truncated=r["truncated"],
        request_body=r["request_body"] if "request_body" in keys else "",
        response_body=r["response_body"] if "response_body" in keys else "",
    )


def _person(r: asyncpg.Record, groups: list[asyncpg.Record] | None = None) -> console_pb2.Person:
    keys = r.keys()
    return console_pb2.Person(
        id=str(r["id"]),
        user_name=r["user_name"],
        external_id=r["external_id"] or "",
        display_name=r["display_name"] or "",
        active=r["active"],
        version=r["version"],
        created_at=_iso(r["created_at"]),
        last_modified=_iso(r["last_modified"]),
        resource_json=jsonutil.dumps(r["doc"]) if "doc" in keys else b"",
        groups=[console_pb2.GroupRef(id=str(g["id"]), display_name=g["display_name"]) for g in groups or []],
    )


def _group(r: asyncpg.Record) -> console_pb2.GroupSummary:
    return console_pb2.GroupSummary(
        id=str(r["id"]), display_name=r["display_name"], member_count=r["member_count"]
    )


def _action(r: asyncpg.Record) -> console_pb2.AdminAction:
    return console_pb2.AdminAction(
        id=r["id"],
        at=_iso(r["at"]),
        actor=r["actor"],
        workspace_id=str(r["workspace_id"] or ""),
        action=r["action"],
        target=r["target"],
        detail=r["detail"],
    )


class RequestLogIngestServicer(console_pb2_grpc.RequestLogIngestServicer):
    """Only scim-edge reaches the data port (NetworkPolicy); records for unknown connections are dropped."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def RecordRequests(
        self, request: console_pb2.RecordRequestsRequest, context: Context
    ) -> console_pb2.RecordRequestsResponse:
        records = [
            log_service.IncomingRecord(
                connection_id=r.connection_id,
                at=r.at,
                request_id=r.request_id,
                method=r.method,
                path=r.path,
                query=r.query,
                status=r.status,
                scim_type=r.scim_type,
                detail=r.detail,
                latency_ms=r.latency_ms,
                user_agent=r.user_agent,
                resource_type=r.resource_type,
                resource_id=r.resource_id,
                user_name=r.user_name,
                request_body=r.request_body,
                response_body=r.response_body,
                truncated=r.truncated,
                token_sha256=bytes(r.token_sha256),
                idp=r.idp,
            )
            for r in request.records
        ]
        return console_pb2.RecordRequestsResponse(stored=await log_service.store(self.pool, records))


class ConsoleDirectoryServicer(console_pb2_grpc.ConsoleDirectoryServicer):
    """Guarded by the admin-credential interceptor (suite_common.admin_credential), like DirectoryAdmin."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def _run(
        self, context: Context, call: Callable[[asyncpg.pool.PoolConnectionProxy[Any]], Awaitable[T]]
    ) -> T:
        try:
            async with self.pool.acquire() as conn:
                return await call(conn)
        except NotFound as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        raise AssertionError("unreachable")

    async def ListRequestLog(
        self, request: console_pb2.ListRequestLogRequest, context: Context
    ) -> console_pb2.ListRequestLogResponse:
        async def call(conn: Any) -> console_pb2.ListRequestLogResponse:
            rows, more = await request_log.page(
                conn,
                _uuid(request.connection_id, "connection"),
                LogFilter(request.errors_only, request.resource_type, request.user, request.method),
                before_id=request.before_id,
                after_id=request.after_id,
                limit=_limit(request.limit),
                with_bodies=request.with_bodies,
            )
            return console_pb2.ListRequestLogResponse(entries=[_entry(r) for r in rows], more=more)

        return await self._run(context, call)

    async def GetRequestLog(
        self, request: console_pb2.GetRequestLogRequest, context: Context
    ) -> console_pb2.LogEntry:
        async def call(conn: Any) -> console_pb2.LogEntry:
            row = await request_log.get(conn, _uuid(request.connection_id, "connection"), request.id)
            if row is None:
                raise NotFound(f"no log entry {request.id}")
            return _entry(row)

        return await self._run(context, call)

    async def GetConnectionHealth(
        self, request: console_pb2.ConnectionHealthRequest, context: Context
    ) -> console_pb2.ConnectionHealthResponse:
        async def call(conn: Any) -> console_pb2.ConnectionHealthResponse:
            rows = await request_log.health(conn, _uuid(request.workspace_id, "workspace"))
            return console_pb2.ConnectionHealthResponse(
                connections=[
                    console_pb2.ConnectionHealth(
                        connection_id=str(r["connection_id"]),
                        portal=r["portal"],
                        last_request_at=_iso(r["last_at"]),
                        last_status=r["last_status"] or 0,
                        last_id=r["last_id"] or 0,
                        requests_24h=r["requests"] or 0,
                        errors_24h=r["errors"] or 0,
                        idp=r["idp"] or "",
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)

    async def ListTokens(
        self, request: console_pb2.ListTokensRequest, context: Context
    ) -> console_pb2.ListTokensResponse:
        async def call(conn: Any) -> console_pb2.ListTokensResponse:
            rows = await console_queries.tokens(conn, _uuid(request.connection_id, "connection"))
            return console_pb2.ListTokensResponse(
                tokens=[
                    console_pb2.Token(
                        id=str(r["id"]),
                        created_at=_iso(r["created_at"]),
                        last_used_at=_iso(r["last_used_at"]),
                        expires_at=_iso(r["expires_at"]),
                        revoked_at=_iso(r["revoked_at"]),
                        active=r["active"],
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)

    async def ListPeople(
        self, request: console_pb2.ListPeopleRequest, context: Context
    ) -> console_pb2.ListPeopleResponse:
        async def call(conn: Any) -> console_pb2.ListPeopleResponse:
            rows, after = await console_queries.people(
                conn,
                _uuid(request.connection_id, "connection"),
                request.query,
                request.after,
                _limit(request.limit),
            )
            return console_pb2.ListPeopleResponse(people=[_person(r) for r in rows], next_after=after)

        return await self._run(context, call)

    async def GetPerson(self, request: console_pb2.GetPersonRequest, context: Context) -> console_pb2.Person:
        async def call(conn: Any) -> console_pb2.Person:
            uid = _uuid(request.user_id, "user")
            row = await console_queries.person(conn, _uuid(request.connection_id, "connection"), uid)
            if row is None:
                raise NotFound(f"no user {request.user_id!r}")
            return _person(row, await console_queries.groups_of(conn, uid))

        return await self._run(context, call)

    async def ListGroupsPage(
        self, request: console_pb2.ListGroupsPageRequest, context: Context
    ) -> console_pb2.ListGroupsPageResponse:
        async def call(conn: Any) -> console_pb2.ListGroupsPageResponse:
            rows, after = await console_queries.groups_page(
                conn,
                _uuid(request.connection_id, "connection"),
                request.query,
                request.after,
                _limit(request.limit),
            )
            return console_pb2.ListGroupsPageResponse(groups=[_group(r) for r in rows], next_after=after)

        return await self._run(context, call)

    async def ListMembers(
        self, request: console_pb2.ListMembersRequest, context: Context
    ) -> console_pb2.ListMembersResponse:
        async def call(conn: Any) -> console_pb2.ListMembersResponse:
            gid = _uuid(request.group_id, "group")
            group = await console_queries.group(conn, _uuid(request.connection_id, "connection"), gid)
            if group is None:
                raise NotFound(f"no group {request.group_id!r}")
            rows, after = await console_queries.members(conn, gid, request.after, _limit(request.limit))
            return console_pb2.ListMembersResponse(
                group=_group(group), members=[_person(r) for r in rows], next_after=after
            )

        return await self._run(context, call)

    async def RecordAdminAction(
        self, request: console_pb2.RecordAdminActionRequest, context: Context
    ) -> console_pb2.AdminAction:
        async def call(conn: Any) -> console_pb2.AdminAction:
            a = request.action
            ws = _uuid(a.workspace_id, "workspace") if a.workspace_id else None
            row = await console_queries.record_admin_action(
                conn, a.actor or "admin", ws, a.action, a.target, a.detail
            )
            return _action(row)

        return await self._run(context, call)

    async def ListAdminAudit(
        self, request: console_pb2.ListAdminAuditRequest, context: Context
    ) -> console_pb2.ListAdminAuditResponse:
        async def call(conn: Any) -> console_pb2.ListAdminAuditResponse:
            ws = _uuid(request.workspace_id, "workspace") if request.workspace_id else None
            rows = await console_queries.admin_audit(conn, ws, request.before_id, _limit(request.limit))
            return console_pb2.ListAdminAuditResponse(actions=[_action(r) for r in rows])

        return await self._run(context, call)
