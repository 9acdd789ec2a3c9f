"""The load mix of scim-peers.md §9, as actions for each system under test.

Every operation is defined once for HTTP (sent identically to our edge and to scim2-server) and, where it
makes sense, once as the raw asyncpg statements our directory would need at the very least (the baseline).
Random choices come from a seeded generator per (operation, target), so reruns send the same requests.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import orjson

from bench.clients import ENTRA, OKTA, HttpTarget, Profile, json_of
from bench.dataset import Dataset, group_id, group_name, user_body, user_id, user_name
from bench.load import Action, WrongAnswer

USER_COLUMNS = (
    "u.id, u.user_name, u.external_id, u.display_name, u.active, u.doc, u.version, u.created_at, "
    "u.last_modified"
)

GROUPS_OF = """
    SELECT m.user_id, g.id, g.display_name
      FROM directory.memberships m JOIN directory.groups g ON g.id = m.group_id
     WHERE m.user_id = ANY($1::uuid[])
     ORDER BY g.display_name
"""


@dataclass
class Ctx:
    ds: Dataset
    connection_id: str  # ours: the tenant the dataset lives in (used by the asyncpg baseline)


HttpBuilder = Callable[[HttpTarget, Ctx], Action]
PgBuilder = Callable[[asyncpg.Pool, Ctx], Action]
Verifier = Callable[[HttpTarget, Ctx], Awaitable[None]]


@dataclass
class Op:
    key: str
    title: str
    concurrency: int
    http: HttpBuilder
    pg: PgBuilder | None = None
    verify: Verifier | None = None
    targets: tuple[str, ...] = ("ours", "scim2-server")
    # Sequential operations on one resource (group PATCH) run a bounded number of requests per run.
    max_requests: int | None = None
    note: str = ""
    tags: set[str] = field(default_factory=set)
    # Variants measured in the same runs, interleaved with the others: label -> (HTTP target, builder, title).
    variants: dict[str, tuple[str, HttpBuilder, str]] = field(default_factory=dict)


def _rng(key: str, target: str) -> random.Random:
    return random.Random(f"{key}/{target}")


# -- users -------------------------------------------------------------------------------------------


def post_user(profile: Profile) -> HttpBuilder:
    def build(t: HttpTarget, ctx: Ctx) -> Action:
        prefix = uuid.uuid4().hex[:8]

        async def act(k: int) -> None:
            name = f"post-{prefix}-{k}@bench.example"
            await t.call("POST", "/Users", profile, body=profile.create_body(name, k), expect=(201,))

        return act

    return build


def pg_post_user(with_outbox: bool) -> PgBuilder:
    def build(pool: asyncpg.Pool, ctx: Ctx) -> Action:
        prefix = uuid.uuid4().hex[:8]
        cid = uuid.UUID(ctx.connection_id)

        async def act(k: int) -> None:
            name = f"pg-{prefix}-{k}@bench.example"
            body = user_body(name, k)
            doc = orjson.dumps(body).decode()
            async with pool.acquire() as conn, conn.transaction():
                await conn.fetchrow(
                    "INSERT INTO directory.users AS u "
                    "(id, connection_id, user_name, external_id, display_name, "
                    f"active, doc) VALUES ($1, $2, $3, $4, $5, true, $6) RETURNING {USER_COLUMNS}",
                    uuid.uuid4(),
                    cid,
                    name,
                    body["externalId"],
                    body["displayName"],
                    doc,
                )
                if with_outbox:
                    # Same row shape as the directory's outbox, in a scratch table nobody relays.
                    await conn.execute(
                        "INSERT INTO public.bench_outbox (event_id, stream_key, subject, payload) "
                        "VALUES ($1, $2, $3, $4)",
                        uuid.uuid4(),
                        f"User/{name}",
                        "scim.bench.user.created",
                        doc.encode() * 2,
                    )

        return act

    return build


def _get_user(t: HttpTarget, ctx: Ctx) -> Action:
    rng = _rng("get", t.name)

    async def act(k: int) -> None:
        await t.call("GET", f"/Users/{user_id(user_name(rng.randrange(ctx.ds.users)))}", OKTA)

    return act


async def _verify_get(t: HttpTarget, ctx: Ctx) -> None:
    uid = user_id(user_name(0))
    _, raw = await t.call("GET", f"/Users/{uid}", OKTA)
    if json_of(raw)["id"] != uid:
        raise WrongAnswer(f"{t.name}: GET returned another user")


def _pg_get_user(pool: asyncpg.Pool, ctx: Ctx) -> Action:
    rng = _rng("get", "asyncpg")
    cid = uuid.UUID(ctx.connection_id)

    async def act(k: int) -> None:
        uid = uuid.UUID(user_id(user_name(rng.randrange(ctx.ds.users))))
        # The statements the directory runs for this request: the token lookup is left out (a floor), the
        # computed `groups` attribute is not (it is part of the default response).
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {USER_COLUMNS} FROM directory.users u WHERE u.id = $1 AND u.connection_id = $2",
                uid,
                cid,
            )
            if row is None:
                raise WrongAnswer("missing user")
            await conn.fetch(GROUPS_OF, [row["id"]])

    return act


def _filter_eq(profile: Profile) -> HttpBuilder:
    def build(t: HttpTarget, ctx: Ctx) -> Action:
        rng = _rng(f"eq-{profile.name}", t.name)

        async def act(k: int) -> None:
            await t.call(
                "GET", "/Users", profile, params=profile.lookup_params(user_name(rng.randrange(ctx.ds.users)))
            )

        return act

    return build


async def _verify_eq(t: HttpTarget, ctx: Ctx) -> None:
    name = user_name(ctx.ds.users // 2).upper()  # userName is case-insensitive on both servers
    _, raw = await t.call("GET", "/Users", OKTA, params=OKTA.lookup_params(name))
    if json_of(raw)["totalResults"] != 1:
        raise WrongAnswer(f"{t.name}: userName eq found {json_of(raw)['totalResults']}")


def pg_filter_eq(pool: asyncpg.Pool, ctx: Ctx) -> Action:
    rng = _rng("eq", "asyncpg")
    cid = uuid.UUID(ctx.connection_id)

    async def act(k: int) -> None:
        # The exact statement shape the directory's filter compiler emits (parameterised LIMIT/OFFSET too:
        # with a literal LIMIT, PostgreSQL's generic plan for the `co` case below becomes a full scan).
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {USER_COLUMNS} FROM directory.users u WHERE u.connection_id = $1 "
                "AND (lower(u.user_name) = lower($2::text)) ORDER BY u.seq ASC LIMIT $3 OFFSET $4",
                cid,
                user_name(rng.randrange(ctx.ds.users)),
                100,
                0,
            )
            if len(rows) != 1:
                raise WrongAnswer("eq")
            await conn.fetch(GROUPS_OF, [r["id"] for r in rows])

    return act


def _co_params(i: int) -> dict[str, str]:
    return {"filter": f'userName co "{i:06d}@"', "startIndex": "1", "count": "10"}


def _filter_co(t: HttpTarget, ctx: Ctx) -> Action:
    rng = _rng("co", t.name)

    async def act(k: int) -> None:
        await t.call("GET", "/Users", OKTA, params=_co_params(rng.randrange(ctx.ds.users)))

    return act


async def _verify_co(t: HttpTarget, ctx: Ctx) -> None:
    _, raw = await t.call("GET", "/Users", OKTA, params=_co_params(ctx.ds.users - 1))
    got = json_of(raw)
    if got["totalResults"] != 1 or got["Resources"][0]["userName"] != user_name(ctx.ds.users - 1):
        raise WrongAnswer(f"{t.name}: co found {got['totalResults']}")


def _pg_filter_co(pool: asyncpg.Pool, ctx: Ctx) -> Action:
    rng = _rng("co", "asyncpg")
    cid = uuid.UUID(ctx.connection_id)

    async def act(k: int) -> None:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {USER_COLUMNS} FROM directory.users u WHERE u.connection_id = $1 "
                "AND (lower(u.user_name) LIKE ('%' || lower($2::text) || '%')) ORDER BY u.seq ASC "
                "LIMIT $3 OFFSET $4",
                cid,
                f"{rng.randrange(ctx.ds.users):06d}@",
                10,
                0,
            )
            if len(rows) != 1:
                raise WrongAnswer("co")
            await conn.fetch(GROUPS_OF, [r["id"] for r in rows])

    return act


SORTED = {"sortBy": "userName", "sortOrder": "ascending", "startIndex": "1", "count": "100"}


def _sorted_page(t: HttpTarget, ctx: Ctx) -> Action:
    async def act(k: int) -> None:
        await t.call("GET", "/Users", OKTA, params=SORTED)

    return act


async def _verify_sorted(t: HttpTarget, ctx: Ctx) -> None:
    _, raw = await t.call("GET", "/Users", OKTA, params=SORTED)
    got = json_of(raw)
    names = [r["userName"] for r in got["Resources"]]
    if len(names) != 100 or names != sorted(names, key=str.lower) or got["totalResults"] < ctx.ds.users:
        raise WrongAnswer(f"{t.name}: sorted page wrong ({len(names)} items, total {got['totalResults']})")


def _pg_sorted_page(pool: asyncpg.Pool, ctx: Ctx) -> Action:
    cid = uuid.UUID(ctx.connection_id)

    async def act(k: int) -> None:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {USER_COLUMNS} FROM directory.users u WHERE u.connection_id = $1 "
                "ORDER BY lower(u.user_name) ASC NULLS LAST, u.seq ASC LIMIT $2 OFFSET $3",
                cid,
                100,
                0,
            )
            # A full page does not tell the total: RFC 7644 totalResults needs the count.
            await conn.fetchval("SELECT count(*) FROM directory.users u WHERE u.connection_id = $1", cid)
            await conn.fetch(GROUPS_OF, [r["id"] for r in rows])

    return act


def _toggle_range(ctx: Ctx, lane: int) -> tuple[int, int]:
    """Users whose `active` flag one PATCH benchmark flips, from the end of the dataset.

    Each lane (Okta, Entra, asyncpg) has its own users, so one lane never finds a user already in the state
    it asks for (a no-op PATCH is cheaper and would flatter the numbers).
    """
    m = min(2_000, max(ctx.ds.users // 12, 1))
    return ctx.ds.users - (lane + 1) * m, m


def _patch_active(profile: Profile, lane: int) -> HttpBuilder:
    def build(t: HttpTarget, ctx: Ctx) -> Action:
        start, m = _toggle_range(ctx, lane)

        async def act(k: int) -> None:
            # First pass over the range deactivates, the next reactivates: every request is a real change.
            i, active = start + k % m, (k // m) % 2 == 1
            await t.call(
                "PATCH",
                f"/Users/{user_id(user_name(i))}",
                profile,
                body=profile.set_active_body(active),
                expect=(200, 204),
            )

        return act

    return build


def _pg_patch_active(pool: asyncpg.Pool, ctx: Ctx) -> Action:
    start, m = _toggle_range(ctx, 2)
    cid = uuid.UUID(ctx.connection_id)

    async def act(k: int) -> None:
        i, active = start + k % m, (k // m) % 2 == 1
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT {USER_COLUMNS} FROM directory.users u WHERE u.id = $1 "
                "AND u.connection_id = $2 FOR UPDATE",
                uuid.UUID(user_id(user_name(i))),
                cid,
            )
            if row is None:
                raise WrongAnswer("missing user")
            await conn.fetchrow(
                "UPDATE directory.users AS u SET active = $2, "
                "doc = jsonb_set(u.doc, '{active}', to_jsonb($2::boolean)), "
                # The same row write as the directory's, but `version` is rewritten unchanged: a version bump
                # without an event leaves a gap that portal-actions' ordering guard waits on (up to
                # order_wait_s, 30 s) at the resource's next real event.
                f"version = u.version, last_modified = now() WHERE u.id = $1 RETURNING {USER_COLUMNS}",
                row["id"],
                active,
            )

    return act


# -- groups ------------------------------------------------------------------------------------------


def _group_patch_one(size: int, lean: bool) -> HttpBuilder:
    """Toggle one member of the group: remove the last member, add it back, and so on (size stays ±1)."""

    def build(t: HttpTarget, ctx: Ctx) -> Action:
        gid = group_id(group_name(size))
        member = user_name(size - 1)
        uid = user_id(member)
        params = {"excludedAttributes": "members"} if lean else None

        async def act(k: int) -> None:
            body = OKTA.remove_members_body([uid]) if k % 2 == 0 else OKTA.add_members_body([(uid, member)])
            await t.call("PATCH", f"/Groups/{gid}", OKTA, body=body, params=params, expect=(200, 204))

        return act

    return build


def _pg_group_patch_one(size: int) -> PgBuilder:
    def build(pool: asyncpg.Pool, ctx: Ctx) -> Action:
        gid = uuid.UUID(group_id(group_name(size)))
        # Not the member the HTTP runs toggle, so the two never undo each other's change.
        uid = uuid.UUID(user_id(user_name(max(size - 2, 0))))
        cid = uuid.UUID(ctx.connection_id)

        async def act(k: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.fetchrow("SELECT id, version FROM directory.groups WHERE id = $1 FOR UPDATE", gid)
                if k % 2 == 0:
                    await conn.execute(
                        "DELETE FROM directory.memberships WHERE group_id = $1 AND user_id = $2", gid, uid
                    )
                else:
                    await conn.execute(
                        "INSERT INTO directory.memberships (group_id, user_id, connection_id) "
                        "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        gid,
                        uid,
                        cid,
                    )
                await conn.execute(
                    "UPDATE directory.groups SET version = version, last_modified = now() WHERE id = $1",
                    gid,
                )

        return act

    return build


def _thousand(first: int) -> list[tuple[str, str]]:
    names = [user_name(i) for i in range(first, first + 1_000)]
    return [(user_id(n), n) for n in names]


def _group_patch_1000(lean: bool) -> HttpBuilder:
    """Okta's largest membership PATCH: add 1,000 members in one op, then remove them with 1,000 ops."""

    def build(t: HttpTarget, ctx: Ctx) -> Action:
        gid = group_id(group_name(1_000))
        members = _thousand(1_000)
        add = OKTA.add_members_body(members)
        remove = OKTA.remove_members_body([uid for uid, _ in members])
        params = {"excludedAttributes": "members"} if lean else None

        async def act(k: int) -> None:
            await t.call(
                "PATCH",
                f"/Groups/{gid}",
                OKTA,
                body=add if k % 2 == 0 else remove,
                params=params,
                expect=(200, 204),
            )

        return act

    return build


def _pg_group_patch_1000(pool: asyncpg.Pool, ctx: Ctx) -> Action:
    gid = uuid.UUID(group_id(group_name(1_000)))
    ids = [uuid.UUID(uid) for uid, _ in _thousand(2_000)]  # not the HTTP runs' users
    cid = uuid.UUID(ctx.connection_id)

    async def act(k: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchrow("SELECT id FROM directory.groups WHERE id = $1 FOR UPDATE", gid)
            if k % 2 == 0:
                await conn.execute(
                    "INSERT INTO directory.memberships (group_id, user_id, connection_id) "
                    "SELECT $1, unnest($2::uuid[]), $3 ON CONFLICT DO NOTHING",
                    gid,
                    ids,
                    cid,
                )
            else:
                await conn.execute(
                    "DELETE FROM directory.memberships WHERE group_id = $1 AND user_id = ANY($2::uuid[])",
                    gid,
                    ids,
                )
            await conn.execute(
                "UPDATE directory.groups SET version = version, last_modified = now() WHERE id = $1", gid
            )

    return act


# The same PATCH asking not to get the members back: shows how much of the cost is the response.
LEAN = "ours-lean"
LEAN_TITLE = "… same request with `?excludedAttributes=members`"


def operations(ds: Dataset) -> list[Op]:
    all3 = ("ours", "scim2-server", "asyncpg")
    ops = [
        Op(
            "post_okta",
            "POST /Users (Okta body)",
            16,
            post_user(OKTA),
            pg_post_user(True),
            targets=all3,
            note="asyncpg: user row + outbox row in one transaction",
            tags={"write"},
        ),
        Op("post_entra", "POST /Users (Entra body)", 16, post_user(ENTRA)),
        Op("get_user", "GET /Users/{id}", 16, _get_user, _pg_get_user, _verify_get, all3),
        Op(
            "eq_okta",
            "GET filter=userName eq (Okta lookup)",
            16,
            _filter_eq(OKTA),
            pg_filter_eq,
            _verify_eq,
            all3,
        ),
        Op("eq_entra", "GET filter=userName eq (Entra lookup)", 16, _filter_eq(ENTRA)),
        Op(
            "co",
            "GET filter=userName co (substring), count=10",
            4,
            _filter_co,
            _pg_filter_co,
            _verify_co,
            all3,
        ),
        Op(
            "sorted",
            "GET sortBy=userName, page of 100",
            4,
            _sorted_page,
            _pg_sorted_page,
            _verify_sorted,
            all3,
        ),
        Op(
            "deactivate_okta",
            "PATCH User active (Okta, no path)",
            16,
            _patch_active(OKTA, 0),
            _pg_patch_active,
            targets=all3,
        ),
        Op("deactivate_entra", 'PATCH User active (Entra, "False")', 16, _patch_active(ENTRA, 1)),
    ]
    for size in ds.group_sizes:
        ops.append(
            Op(
                f"group1_{size}",
                f"Group PATCH ±1 member @ {size:,} (Okta)",
                1,
                _group_patch_one(size, False),
                _pg_group_patch_one(size),
                targets=all3,
                max_requests=30,
                tags={"group1"},
                variants={LEAN: ("ours", _group_patch_one(size, True), LEAN_TITLE)},
            )
        )
    if ds.users >= 3_000 and 1_000 in ds.group_sizes:
        ops.append(
            Op(
                "group1000",
                "Group PATCH 1,000 members (Okta; add, then remove)",
                1,
                _group_patch_1000(False),
                _pg_group_patch_1000,
                # scim2-server is left out: in a smoke run its 1,000-op removal took 47 s per request (it
                # re-validates and deep-copies the group per operation), which would dominate the run time.
                targets=("ours", "asyncpg"),
                max_requests=10,
                tags={"group1000"},
                variants={LEAN: ("ours", _group_patch_1000(True), LEAN_TITLE)},
            )
        )
    return ops
