"""The console's people and member pages against real PostgreSQL: keyset pages walk the whole set once,
in order, whatever its size; searches are prefix matches that treat LIKE wildcards literally."""

from __future__ import annotations

import json
import uuid

import asyncpg
from directory.adapters.postgres import console_queries


async def _connection_with(
    conn: asyncpg.Connection, names: list[str]
) -> tuple[uuid.UUID, uuid.UUID, set[uuid.UUID]]:
    ws, cid, gid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute(
        "INSERT INTO directory.workspaces (id, name) VALUES ($1, $2)", ws, f"paging-{ws.hex[:8]}"
    )
    await conn.execute(
        "INSERT INTO directory.connections (id, workspace_id, portal) VALUES ($1, $2, 'store')", cid, ws
    )
    ids = [uuid.uuid4() for _ in names]
    await conn.copy_records_to_table(
        "users",
        schema_name="directory",
        columns=["id", "connection_id", "user_name", "doc"],
        records=[(i, cid, n, json.dumps({"userName": n})) for i, n in zip(ids, names, strict=True)],
    )
    await conn.execute(
        "INSERT INTO directory.groups (id, connection_id, display_name, doc)"
        " VALUES ($1, $2, 'Everyone', '{}')",
        gid,
        cid,
    )
    members = set(ids[::2])
    await conn.copy_records_to_table(
        "memberships",
        schema_name="directory",
        columns=["group_id", "user_id", "connection_id"],
        records=[(gid, u, cid) for u in members],
    )
    return cid, gid, members


async def test_people_and_members_page_through_everything_once(database_url: str) -> None:
    names = [f"user{i:04d}@example.com" for i in range(257)] + ["odd_name%@example.com"]
    conn = await asyncpg.connect(database_url)
    try:
        cid, gid, members = await _connection_with(conn, names)
        seen: list[str] = []
        after = ""
        while True:
            rows, after = await console_queries.people(conn, cid, "", after, 50)
            seen += [r["user_name"] for r in rows]
            if not after:
                break
        assert seen == sorted(names, key=str.lower)

        walked: list[uuid.UUID] = []
        after = ""
        while True:
            page, after = await console_queries.members(conn, gid, after, 40)
            walked += [r["id"] for r in page]
            if not after:
                break
        assert len(walked) == len(set(walked)) and set(walked) == members
        assert walked == sorted(walked)

        hits, _ = await console_queries.people(conn, cid, "ODD_", "", 50)
        assert [r["user_name"] for r in hits] == ["odd_name%@example.com"]
        # `_` and `%` are literal: "user_" matches nothing, "user00" matches a hundred.
        assert (await console_queries.people(conn, cid, "user_", "", 50))[0] == []
        assert len((await console_queries.people(conn, cid, "user00", "", 500))[0]) == 100
    finally:
        await conn.close()
