"""The directory's use cases for SCIM resources.

Each write runs in one transaction: read (locked), apply the SCIM rules from scim_core, write the row,
write the membership delta as set operations, append the outbox event. A rejected request raises before
commit, so nothing is half-applied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from scim_core import errors
from scim_core.kinds import ResourceKind
from scim_core.normalize import normalize_resource
from scim_core.patch import (
    AddMembers,
    MemberChange,
    MemberRef,
    PatchOperation,
    RemoveAllMembers,
    RemoveMembers,
    ReplaceMembers,
    apply_patch,
    member_changes_alone,
    parse_patch_request,
)
from scim_core.projection import needs_groups, needs_members
from scim_core.schema import GROUP_RESOURCE, USER_RESOURCE, ResourceSchema, Schema, resource_with_extensions

from directory.adapters.postgres import groups as groups_repo
from directory.adapters.postgres import outbox
from directory.adapters.postgres import users as users_repo
from directory.adapters.postgres.rows import Conn
from directory.adapters.postgres.search import search
from directory.domain.events import ResourceChanged
from directory.domain.membership_delta import MembershipDelta, named_ids, work_out
from directory.domain.representation import group_representation, user_representation, user_version
from directory.domain.tenancy import ConnectionContext
from directory.service_layer.unit_of_work import transaction

# A parsed PATCH request; named so that `ResourceService.list` does not shadow the builtin in annotations.
Operations = list[PatchOperation]


@dataclass(frozen=True)
class Projection:
    attributes: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def with_members(self) -> bool:
        return needs_members(list(self.attributes) or None, list(self.excluded) or None)

    @property
    def with_groups(self) -> bool:
        return needs_groups(list(self.attributes) or None, list(self.excluded) or None)


@dataclass(frozen=True)
class Stored:
    resource: dict[str, Any]
    version: int


@dataclass(frozen=True)
class Listing:
    resources: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class RequestInfo:
    request_id: str = ""
    summary: str = ""


def resource_schema(ctx: ConnectionContext, kind: str) -> ResourceSchema:
    if kind == ResourceKind.GROUP:
        return GROUP_RESOURCE
    custom = tuple(Schema.from_schema_json(s) for s in ctx.custom_schemas)
    return resource_with_extensions(USER_RESOURCE, custom)


async def _members(conn: Conn, row: asyncpg.Record, projection: Projection) -> Any:
    """A group's members, read only when the response includes them (`excludedAttributes=members`)."""
    if not projection.with_members:
        return None
    return (await groups_repo.members_of(conn, [row["id"]]))[row["id"]]


async def _written_members(conn: Conn, row: asyncpg.Record, projection: Projection, inline_max: int) -> Any:
    """The members in the answer to a Group write (POST, PUT, PATCH): inlined up to `inline_max`.

    RFC 7644 §3.5.2 answers a write with the resource, but a one-member change to a group of 100,000 must
    not read and ship 100,000 members back, and no provisioning client reads them: Okta documents
    `members` as null after a PATCH, Entra prefers 204. Above the bound `members` is left out; asking for
    it by name (`?attributes=members`) always returns it, and GET always returns it.
    """
    if not projection.with_members:
        return None
    if not _members_asked(projection):
        return await groups_repo.members_if_at_most(conn, row["id"], inline_max)
    return (await groups_repo.members_of(conn, [row["id"]]))[row["id"]]


def _changed(new: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether a write changes the resource; one that does not keeps its version, so its ETag (RFC 7644
    §3.14). `schemas` is left out: normalizing adds it to `new`, and it only restates what is present."""

    def content(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != "schemas"}

    return content(new) != content(current)


def _check_version(kind: str, row: asyncpg.Record, expected: int | None) -> None:
    """If-Match (RFC 7644 §3.14) against the version the resource's ETag carries."""
    current = user_version(row) if kind == ResourceKind.USER else row["version"]
    if expected is not None and current != expected:
        raise errors.PreconditionFailed(
            f'resource version is W/"{current}", If-Match asked for W/"{expected}"'
        )


class ResourceService:
    def __init__(self, pool: asyncpg.Pool, *, write_members_inline_max: int = 100) -> None:
        self.pool = pool
        self.write_members_inline_max = write_members_inline_max

    # -- reads ---------------------------------------------------------------------------------------

    async def get(
        self, ctx: ConnectionContext, kind: str, resource_id: str, projection: Projection
    ) -> Stored:
        async with self.pool.acquire() as conn:
            if kind == ResourceKind.USER:
                row = await users_repo.get(
                    conn, ctx.connection_id, resource_id, with_groups=projection.with_groups
                )
                if row is None:
                    raise errors.NotFound(f"User {resource_id} not found")
                return Stored(
                    user_representation(row, row["groups"] if projection.with_groups else None),
                    user_version(row),
                )
            row = await groups_repo.get(conn, ctx.connection_id, resource_id)
            if row is None:
                raise errors.NotFound(f"Group {resource_id} not found")
            return Stored(group_representation(row, await _members(conn, row, projection)), row["version"])

    async def list(
        self,
        ctx: ConnectionContext,
        kind: str,
        *,
        filter_text: str,
        sort_by: str,
        descending: bool,
        offset: int,
        limit: int,
        projection: Projection,
    ) -> Listing:
        schema = resource_schema(ctx, kind)
        async with self.pool.acquire() as conn:
            page = await search(
                conn,
                ctx.connection_id,
                schema,
                filter_text=filter_text,
                sort_by=sort_by,
                descending=descending,
                offset=offset,
                limit=limit,
                extra_columns=users_repo.GROUPS_COLUMN
                if kind == ResourceKind.USER and projection.with_groups
                else "",
            )
            ids = [r["id"] for r in page.rows]
            if kind == ResourceKind.USER:
                resources = (
                    [user_representation(r, r["groups"]) for r in page.rows]
                    if projection.with_groups
                    else [user_representation(r) for r in page.rows]
                )
            else:
                members = await groups_repo.members_of(conn, ids) if projection.with_members and ids else {}
                resources = (
                    [group_representation(r, members.get(r["id"], [])) for r in page.rows]
                    if projection.with_members
                    else [group_representation(r) for r in page.rows]
                )
        return Listing(resources, page.total)

    # -- writes --------------------------------------------------------------------------------------

    async def create(
        self,
        ctx: ConnectionContext,
        kind: str,
        body: dict[str, Any],
        info: RequestInfo,
        projection: Projection,
    ) -> Stored:
        schema = resource_schema(ctx, kind)
        doc = normalize_resource(body, schema)
        # A user and its event are one statement (no BEGIN/COMMIT); a group's members need a transaction.
        async with self.pool.acquire() if kind == ResourceKind.USER else transaction(self.pool) as conn:
            if kind == ResourceKind.USER:
                # RFC 7643 §4.1.1 leaves `active` to the service provider: a new user is active unless
                # the client says otherwise, and GET shows that, as Okta expects (idp-clients §1.5).
                doc.setdefault("active", True)
                now = datetime.now(UTC)
                created = users_repo.pending(
                    uuid.uuid4(),
                    doc,
                    version=1,
                    created_at=now,
                    last_modified=now,
                    stamp=0,  # a user in no group has its version as ETag; the column takes its default
                    membership_stamp=[0, 0, 0],
                )
                state = user_representation(created)
                event = self._event(ResourceKind.USER, "Created", created, state, info)
                await users_repo.insert_with_event(
                    conn, ctx.connection_id, created, outbox.values(ctx, event)
                )
                groups: list[dict[str, str]] | None = [] if projection.with_groups else None
                return Stored(user_representation(created, groups), user_version(created))
            refs = _member_refs(doc.pop("members", []))
            row = await groups_repo.insert(conn, ctx.connection_id, doc)
            added = await groups_repo.add_members(conn, ctx.connection_id, row["id"], refs, exact=True)
            state = group_representation(row)
            event = self._event(ResourceKind.GROUP, "Created", row, state, info, added=added.ids)
            await outbox.append(conn, ctx, event)
            return Stored(
                group_representation(
                    row, await _written_members(conn, row, projection, self.write_members_inline_max)
                ),
                row["version"],
            )

    async def replace(
        self,
        ctx: ConnectionContext,
        kind: str,
        resource_id: str,
        body: dict[str, Any],
        expected_version: int | None,
        info: RequestInfo,
        projection: Projection,
    ) -> Stored:
        schema = resource_schema(ctx, kind)
        doc = normalize_resource(body, schema)
        if kind == ResourceKind.USER:
            # `active` changes only when the client says so: a PUT that omits it must not reactivate a user.
            return await self._write_user(
                ctx,
                resource_id,
                expected_version,
                info,
                projection,
                lambda current: (
                    doc
                    if "active" in doc or "active" not in current
                    else {**doc, "active": current["active"]}
                ),
            )
        refs = _member_refs(doc.pop("members", []))
        # RFC 7644 §3.5.1: PUT replaces the whole resource, membership included (Okta AIW pushes groups so).
        replace_members: list[MemberChange] = [ReplaceMembers(tuple(r.value for r in refs), refs)]
        return await self._write_group(
            ctx, resource_id, expected_version, info, projection, lambda _: (doc, replace_members)
        )

    async def patch(
        self,
        ctx: ConnectionContext,
        kind: str,
        resource_id: str,
        body: Any,
        expected_version: int | None,
        info: RequestInfo,
        projection: Projection,
    ) -> Stored:
        schema = resource_schema(ctx, kind)
        ops = parse_patch_request(body)
        if kind == ResourceKind.USER:
            return await self._write_user(
                ctx,
                resource_id,
                expected_version,
                info,
                projection,
                lambda current: apply_patch(current, ops, schema, resource_id=resource_id).doc,
            )

        named = _fast_members(member_changes_alone(ops, schema, resource_id=resource_id))
        if named is not None:
            stored = await self._patch_group(
                ctx, resource_id, ops, schema, named, expected_version, info, projection
            )
            if stored is not None:
                return stored

        def change(current: dict[str, Any]) -> tuple[dict[str, Any], list[MemberChange]]:
            result = apply_patch(current, ops, schema, resource_id=resource_id)
            return result.doc, list(result.member_changes)

        return await self._write_group(ctx, resource_id, expected_version, info, projection, change)

    async def delete(
        self,
        ctx: ConnectionContext,
        kind: str,
        resource_id: str,
        expected_version: int | None,
        info: RequestInfo,
    ) -> None:
        async with transaction(self.pool) as conn:
            if kind == ResourceKind.USER:
                row = await users_repo.get(conn, ctx.connection_id, resource_id, for_update=True)
                if row is None:
                    raise errors.NotFound(f"User {resource_id} not found")
                _check_version(ResourceKind.USER, row, expected_version)
                await users_repo.delete(conn, row["id"])
            else:
                row = await groups_repo.get(conn, ctx.connection_id, resource_id, for_update=True)
                if row is None:
                    raise errors.NotFound(f"Group {resource_id} not found")
                _check_version(ResourceKind.GROUP, row, expected_version)
                await groups_repo.delete(conn, row["id"])
            event = ResourceChanged(
                resource_type=kind,
                change="Deleted",
                resource_id=str(row["id"]),
                version=row["version"] + 1,
                state=None,
                request_id=info.request_id,
                request_summary=info.summary,
            )
            await outbox.append(conn, ctx, event)

    # -- internals -----------------------------------------------------------------------------------

    @staticmethod
    def _event(
        kind: str,
        change: str,
        row: Any,  # an asyncpg.Record or a users_repo.pending row
        state: dict[str, Any],
        info: RequestInfo,
        *,
        added: set[str] | None = None,
        removed: set[str] | None = None,
    ) -> ResourceChanged:
        return ResourceChanged(
            resource_type=kind,
            change=change,
            resource_id=str(row["id"]),
            version=row["version"],
            state=state,
            members_added=tuple(sorted(added or ())),
            members_removed=tuple(sorted(removed or ())),
            request_id=info.request_id,
            request_summary=info.summary,
        )

    async def _write_user(
        self,
        ctx: ConnectionContext,
        resource_id: str,
        expected_version: int | None,
        info: RequestInfo,
        projection: Projection,
        compute: Any,
    ) -> Stored:
        """Read, compute, and write the row and its event in one compare-and-set statement: two round trips
        and no lock held between them. A write that lost a race reads again; after OPTIMISTIC_ATTEMPTS the
        write takes the row lock instead (`_write_user_locked`), so a contended user still converges."""
        for _ in range(OPTIMISTIC_ATTEMPTS):
            async with self.pool.acquire() as conn:
                row, current, doc = await _read_and_compute(
                    conn, ctx, resource_id, expected_version, projection, compute, locked=False
                )
                if not _changed(doc, current):
                    return _stored_user(row, projection)
                pending = users_repo.pending(
                    row["id"],
                    doc,
                    version=row["version"] + 1,
                    created_at=row["created_at"],
                    last_modified=datetime.now(UTC),
                    stamp=row["next_stamp"],
                    membership_stamp=list(row["membership_stamp"]),
                )
                event = self._event(ResourceKind.USER, "Updated", pending, user_representation(pending), info)
                written = await users_repo.update_with_event(
                    conn, row, pending, outbox.values(ctx, event), with_groups=projection.with_groups
                )
                if written is not None:
                    return _stored_user(written, projection)
        return await self._write_user_locked(ctx, resource_id, expected_version, info, projection, compute)

    async def _write_user_locked(
        self,
        ctx: ConnectionContext,
        resource_id: str,
        expected_version: int | None,
        info: RequestInfo,
        projection: Projection,
        compute: Any,
    ) -> Stored:
        async with transaction(self.pool) as conn:
            row, current, doc = await _read_and_compute(
                conn, ctx, resource_id, expected_version, projection, compute, locked=True
            )
            if _changed(doc, current):
                row = await users_repo.update(conn, row["id"], doc, with_groups=projection.with_groups)
                event = self._event(ResourceKind.USER, "Updated", row, user_representation(row), info)
                await outbox.append(conn, ctx, event)
            return _stored_user(row, projection)

    async def _patch_group(
        self,
        ctx: ConnectionContext,
        resource_id: str,
        ops: Operations,
        schema: ResourceSchema,
        named: FastMembers,
        expected_version: int | None,
        info: RequestInfo,
        projection: Projection,
    ) -> Stored | None:
        """A Group PATCH of adds and removes (what Okta and Entra send) in two round trips and no lock: one
        statement reads the row, the named members' state and the first members of the answer; the
        other writes the row, the membership rows and the event if the group is still at the version read
        (`groups.patch_with_event`). A PATCH that changes nothing writes nothing. None when the general,
        locked path (`_write_group`) must take it: the operations on the stored document did not give the
        member changes told from the operations alone, or the compare-and-set kept losing."""
        asked = _members_asked(projection)
        inline = projection.with_members and not asked
        first = self.write_members_inline_max + named.removes + 1 if inline else 0
        for _ in range(OPTIMISTIC_ATTEMPTS):
            async with self.pool.acquire() as conn:
                read = await groups_repo.read_for_patch(
                    conn, ctx.connection_id, resource_id, named.ids, first
                )
                if read is None:
                    raise errors.NotFound(f"Group {resource_id} not found")
                row = read.row
                _check_version(ResourceKind.GROUP, row, expected_version)
                current = _editable(group_representation(row))
                result = apply_patch(current, ops, schema, resource_id=resource_id)
                if list(result.member_changes) != named.changes:
                    return None
                doc = result.doc
                doc.pop("members", None)
                delta = work_out(named.changes, read.named_members, read.named_users)
                written: Any = row
                if _changed(doc, current) or not delta.empty:
                    pending = groups_repo.pending(row, doc, datetime.now(UTC))
                    event = self._event(
                        ResourceKind.GROUP,
                        "Updated",
                        pending,
                        group_representation(pending),
                        info,
                        added=set(delta.added),
                        removed=set(delta.removed),
                    )
                    try:
                        written = await groups_repo.patch_with_event(
                            conn,
                            ctx.connection_id,
                            row,
                            pending,
                            sorted(delta.removed),
                            dict(delta.upserts),
                            outbox.values(ctx, event),
                        )
                    except groups_repo.Conflict:
                        continue
                    if written is None:
                        continue
                if asked:
                    members: Any = (await groups_repo.members_of(conn, [row["id"]]))[row["id"]]
                else:
                    members = _answer_members(
                        read.first_members, delta, self.write_members_inline_max, named.removes
                    )
                return Stored(group_representation(written, members), written["version"])
        return None

    async def _write_group(
        self,
        ctx: ConnectionContext,
        resource_id: str,
        expected_version: int | None,
        info: RequestInfo,
        projection: Projection,
        compute: Any,
    ) -> Stored:
        async with transaction(self.pool) as conn:
            row = await groups_repo.get(conn, ctx.connection_id, resource_id, for_update=True)
            if row is None:
                raise errors.NotFound(f"Group {resource_id} not found")
            _check_version(ResourceKind.GROUP, row, expected_version)
            current = _editable(group_representation(row))
            doc, changes = compute(current)
            doc.pop("members", None)
            added, removed, relabelled = await _apply_member_changes(conn, ctx, row["id"], changes)
            if _changed(doc, current) or added or removed or relabelled:
                pending = groups_repo.pending(row, doc, datetime.now(UTC))
                event = self._event(
                    ResourceKind.GROUP,
                    "Updated",
                    pending,
                    group_representation(pending),
                    info,
                    added=added,
                    removed=removed,
                )
                row = await groups_repo.update_with_event(conn, pending, outbox.values(ctx, event))
            return Stored(
                group_representation(
                    row, await _written_members(conn, row, projection, self.write_members_inline_max)
                ),
                row["version"],
            )


# Compare-and-set tries of a user write before it takes the row lock. Two clients writing one user at the
# same instant are rare (an IdP sends one operation per user at a time), so the first try nearly always wins.
OPTIMISTIC_ATTEMPTS = 3


def _editable(representation: dict[str, Any]) -> dict[str, Any]:
    """A representation without what a client cannot write: the input of PUT/PATCH rules."""
    for key in ("id", "meta", "schemas"):
        representation.pop(key, None)
    return representation


async def _read_and_compute(
    conn: Conn,
    ctx: ConnectionContext,
    resource_id: str,
    expected_version: int | None,
    projection: Projection,
    compute: Any,
    *,
    locked: bool,
) -> tuple[asyncpg.Record, dict[str, Any], dict[str, Any]]:
    """A user write's first step: the row (locked, or with a fresh stamp for the compare-and-set),
    If-Match checked, and (what a client may write now, what it asks for)."""
    row = await users_repo.get(
        conn,
        ctx.connection_id,
        resource_id,
        for_update=locked,
        with_groups=projection.with_groups,
        next_stamp=not locked,
    )
    if row is None:
        raise errors.NotFound(f"User {resource_id} not found")
    _check_version(ResourceKind.USER, row, expected_version)
    current = _editable(user_representation(row))
    return row, current, compute(current)


def _stored_user(row: Any, projection: Projection) -> Stored:
    groups = row["groups"] if projection.with_groups else None
    return Stored(user_representation(row, groups), user_version(row))


# The named ids a fast Group PATCH reads the state of in its first statement; more take the general path.
FAST_PATCH_IDS_MAX = 10_000


@dataclass(frozen=True)
class FastMembers:
    """The member changes of a PATCH the fast path can take, and what its read needs of them."""

    changes: list[AddMembers | RemoveMembers]
    ids: list[str]  # every id they name, canonical, once
    removes: int  # ids named by removes: how far the answer's first members must reach past the bound


def _fast_members(changes: list[MemberChange] | None) -> FastMembers | None:
    if changes is None:
        return None
    simple = [c for c in changes if isinstance(c, AddMembers | RemoveMembers)]
    if len(simple) != len(changes):  # a replace or a clear needs the whole membership
        return None
    ids = named_ids(simple)
    if len(ids) > FAST_PATCH_IDS_MAX:
        return None
    return FastMembers(simple, ids, sum(len(c.ids) for c in simple if isinstance(c, RemoveMembers)))


def _members_asked(projection: Projection) -> bool:
    return any(a.lower().rsplit(":", 1)[-1] == "members" for a in projection.attributes)


def _answer_members(
    first: list[dict[str, str]] | None, delta: MembershipDelta, inline_max: int, removes: int
) -> list[dict[str, str]] | None:
    """The members of a fast PATCH's answer, from the first members read before it and the delta: as
    `_written_members` would read them after the write (inlined up to `inline_max`, else left out)."""
    if first is None:
        return None
    if len(first) > inline_max + removes:  # the read stopped short: there are more than it holds
        return None
    members = []
    for member in first:
        uid = member["value"]
        if uid in delta.removed:
            continue
        labels = delta.upserts.get(uid)
        members.append(member if labels is None else _labelled(uid, labels))
    # New rows sort last: their added_at is this write's, and ties go by id (`members_of`'s order).
    members.extend(_labelled(uid, delta.upserts[uid]) for uid in sorted(delta.added))
    return members if len(members) <= inline_max else None


def _labelled(uid: str, labels: tuple[str | None, str | None]) -> dict[str, str]:
    member = {"value": uid}
    if labels[0] is not None:
        member["display"] = labels[0]
    if labels[1] is not None:
        member["type"] = labels[1]
    return member


def _member_refs(members: list[dict[str, Any]]) -> tuple[MemberRef, ...]:
    """The normalized `members` of a POST or PUT body, as sent (value, display, type)."""
    return tuple(MemberRef(m["value"], m.get("display"), m.get("type")) for m in members)


async def _apply_member_changes(
    conn: Conn, ctx: ConnectionContext, group_id: Any, changes: list[MemberChange]
) -> tuple[set[str], set[str], bool]:
    """Apply membership changes in order; return the net delta and whether a kept member's `display`
    or `type` changed.

    An add undone by a later remove in the same request cancels out, and vice versa.
    """
    added: set[str] = set()
    removed: set[str] = set()
    relabelled = False

    def record_add(ids: set[str]) -> None:
        for uid in ids:
            if uid in removed:
                removed.discard(uid)
            else:
                added.add(uid)

    def record_remove(ids: set[str]) -> None:
        for uid in ids:
            if uid in added:
                added.discard(uid)
            else:
                removed.add(uid)

    for change in changes:
        if isinstance(change, AddMembers | ReplaceMembers):
            if isinstance(change, ReplaceMembers):
                record_remove(await groups_repo.remove_members_except(conn, group_id, list(change.ids)))
            refs = change.refs or tuple(MemberRef(i) for i in change.ids)
            result = await groups_repo.add_members(
                conn, ctx.connection_id, group_id, refs, exact=isinstance(change, ReplaceMembers)
            )
            record_add(result.ids)
            relabelled = relabelled or result.relabelled
        elif isinstance(change, RemoveMembers):
            record_remove(await groups_repo.remove_members(conn, group_id, change.ids))
        elif isinstance(change, RemoveAllMembers):
            record_remove(await groups_repo.remove_all_members(conn, group_id))
    return added, removed, relabelled
