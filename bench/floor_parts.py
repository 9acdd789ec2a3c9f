"""The architecture's floor: the fixed hops of a durable, evented create with no business logic in them.

Three processes, started by `bench.floor` (`python -m bench.floor_parts edge|directory|consumer`):

* **edge**: aiohttp; checks the bearer token against one in-memory string, parses the body once (the edge
  must read `userName` to reject a bad request), and forwards the raw bytes over one gRPC aio unary call
  with no protobuf (a generic bytes method), answering 201 with what the directory returns;
* **directory**: a gRPC aio server; one autocommit statement inserts the user row and its outbox event
  (a CTE), and an in-process relay claims and deletes a batch of events in one `DELETE … RETURNING`,
  publishes them to JetStream side by side with a `Nats-Msg-Id` and commits once every ack is in;
* **consumer**: a JetStream pull consumer that applies a fetched batch in one statement (the
  processed-event record and the account row, so a redelivery applies nothing twice), then acks.

Each keeps the guarantees the suite keeps (durable commit, outbox, deduplicated publish, exactly-once
effect) and skips everything else: tenants, SCIM schema rules, ETags, audit, a second consumer, logging,
metrics. So its CPU per request is a lower bound for any implementation of the fixed architecture in
Python with these libraries; it is not a design for the suite.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import grpc
import nats
import orjson
from aiohttp import web
from suite_common.lifecycle import install_fast_loop

CREATE = "/floor.Directory/Create"
LOOKUP = "/floor.Directory/Lookup"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
# The one filter the floor serves: Okta's and Entra's lookup before every create.
USER_NAME_EQ = re.compile(r'^userName eq "((?:[^"\\]|\\.)*)"$')
SUBJECT = "floor.user.created"
STREAM = "FLOOR"
DURABLE = "floor-consumer"
SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_users (
    id uuid PRIMARY KEY, user_name text NOT NULL, doc jsonb NOT NULL, created_at timestamptz NOT NULL);
-- userName is case-insensitive in SCIM (caseExact false): unique, and looked up, by lower().
CREATE UNIQUE INDEX IF NOT EXISTS floor_users_name ON floor_users (lower(user_name));
CREATE TABLE IF NOT EXISTS floor_outbox (
    id bigserial PRIMARY KEY, event_id uuid NOT NULL, subject text NOT NULL, payload bytea NOT NULL);
CREATE TABLE IF NOT EXISTS floor_processed (event_id uuid PRIMARY KEY);
CREATE TABLE IF NOT EXISTS floor_accounts (user_id uuid PRIMARY KEY, doc jsonb NOT NULL);
"""


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"floor: {name} is not set")
    return value


# -- edge ----------------------------------------------------------------------------------------


async def edge() -> None:
    token = "Bearer " + _env("FLOOR_TOKEN")
    channel = grpc.aio.insecure_channel(_env("FLOOR_DIRECTORY"))
    create = channel.unary_unary(CREATE, None, None)  # no serializers: bytes in, bytes out
    lookup = channel.unary_unary(LOOKUP, None, None)

    async def post_user(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != token:
            return web.Response(status=401)
        raw = await request.read()
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return web.Response(status=400)
        if not isinstance(doc, dict) or not isinstance(doc.get("userName"), str):
            return web.Response(status=400)
        answer: bytes = await create(raw, timeout=10)
        return web.Response(status=201, body=answer, content_type="application/scim+json")

    async def find_users(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != token:
            return web.Response(status=401)
        match = USER_NAME_EQ.match(request.query.get("filter", ""))
        if match is None:
            return web.Response(status=400)
        answer: bytes = await lookup(orjson.loads(f'"{match[1]}"').encode(), timeout=10)
        return web.Response(status=200, body=answer, content_type="application/scim+json")

    app = web.Application()
    app.router.add_post("/scim/v2/Users", post_user)
    app.router.add_get("/scim/v2/Users", find_users)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(_env("FLOOR_HTTP_PORT"))).start()
    await asyncio.Event().wait()


# -- directory -----------------------------------------------------------------------------------


class Relay:
    """Claims a batch of outbox rows, publishes them, and deletes them only once JetStream has them all."""

    def __init__(self, pool: asyncpg.Pool, js: Any) -> None:
        self.pool = pool
        self.js = js
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                while await self._batch():
                    pass
            except Exception:  # rolled back: the rows stay in the outbox for the next attempt
                traceback.print_exc()
                self.wake.set()
                await asyncio.sleep(0.1)

    async def _batch(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "DELETE FROM floor_outbox WHERE id IN "
                "(SELECT id FROM floor_outbox ORDER BY id LIMIT 256 FOR UPDATE SKIP LOCKED) "
                "RETURNING event_id, subject, payload"
            )
            await asyncio.gather(
                *(
                    self.js.publish(r["subject"], r["payload"], headers={"Nats-Msg-Id": str(r["event_id"])})
                    for r in rows
                )
            )
        return len(rows)


async def directory() -> None:
    pool = await asyncpg.create_pool(_env("FLOOR_DSN"), min_size=2, max_size=10)
    assert pool is not None
    nc = await nats.connect(_env("FLOOR_NATS"))
    relay = Relay(pool, nc.jetstream())

    async def create(raw: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        doc = orjson.loads(raw)
        doc.pop("password", None)
        uid = uuid.uuid4()
        now = datetime.now(UTC)
        stamp = now.isoformat()
        doc["id"] = str(uid)
        doc["meta"] = {"resourceType": "User", "created": stamp, "lastModified": stamp, "version": 'W/"1"'}
        body = orjson.dumps(doc)
        await pool.execute(
            "WITH u AS (INSERT INTO floor_users (id, user_name, doc, created_at) VALUES ($1, $2, $3, $4)) "
            "INSERT INTO floor_outbox (event_id, subject, payload) VALUES ($1, $5, $6)",
            uid,
            doc["userName"],
            body.decode(),
            now,
            SUBJECT,
            body,
        )
        relay.wake.set()
        return body

    async def lookup(name: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        docs = await pool.fetch(
            "SELECT doc::text FROM floor_users WHERE lower(user_name) = lower($1)", name.decode()
        )
        head = f'{{"schemas":["{LIST_URN}"],"totalResults":{len(docs)},"startIndex":1,'
        head += f'"itemsPerPage":{len(docs)},"Resources":['
        return (head + ",".join(r[0] for r in docs) + "]}").encode()

    server = grpc.aio.server()
    methods = {
        "Create": grpc.unary_unary_rpc_method_handler(create),
        "Lookup": grpc.unary_unary_rpc_method_handler(lookup),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("floor.Directory", methods),))
    server.add_insecure_port(_env("FLOOR_DIRECTORY"))
    await server.start()
    await relay.run()


# -- consumer ------------------------------------------------------------------------------------


async def consumer() -> None:
    pool = await asyncpg.create_pool(_env("FLOOR_DSN"), min_size=1, max_size=2)
    assert pool is not None
    nc = await nats.connect(_env("FLOOR_NATS"))
    sub = await nc.jetstream().pull_subscribe(SUBJECT, DURABLE, stream=STREAM)
    while True:
        try:
            msgs = await sub.fetch(256, timeout=1.0)
        except (TimeoutError, nats.errors.TimeoutError):  # nats-py raises either when nothing came
            continue
        try:
            await _apply(pool, [orjson.loads(m.data) for m in msgs])
        except Exception:  # not acked: JetStream delivers the batch again
            traceback.print_exc()
            continue
        await asyncio.gather(*(m.ack() for m in msgs))


async def _apply(pool: asyncpg.Pool, docs: list[dict[str, Any]]) -> None:
    await pool.execute(
        "WITH e AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS e(id, doc)), "
        "p AS (INSERT INTO floor_processed (event_id) SELECT id FROM e ON CONFLICT DO NOTHING "
        "RETURNING event_id) "
        "INSERT INTO floor_accounts (user_id, doc) SELECT e.id, e.doc::jsonb FROM e "
        "JOIN p ON p.event_id = e.id",
        [uuid.UUID(d["id"]) for d in docs],
        [orjson.dumps({"userName": d["userName"], "active": d.get("active", True)}).decode() for d in docs],
    )


PARTS = {"edge": edge, "directory": directory, "consumer": consumer}

if __name__ == "__main__":
    install_fast_loop()
    asyncio.run(PARTS[sys.argv[1]]())
