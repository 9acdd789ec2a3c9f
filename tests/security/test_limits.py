"""The request body limit: a body over EDGE_MAX_BODY_BYTES gets 413 with a SCIM error body on every
endpoint that reads one, whether the size is announced (Content-Length) or not (chunked), and nothing is
written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from tests.security.conftest import MAX_BODY, World, fingerprint

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


def oversized() -> bytes:
    return json.dumps({"userName": "big@victim.test", "displayName": "x" * MAX_BODY}).encode()


async def chunks(data: bytes, size: int = 8192) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_oversized_bodies_get_413_with_a_scim_body_and_write_nothing(world: World) -> None:
    before = await fingerprint(world.stack, world.victim.connection_id)
    base = world.client(world.victim).base
    uid, gid = world.user_ids[0], world.group_ids[0]
    targets = [
        ("POST", "/Users"),
        ("PUT", f"/Users/{uid}"),
        ("PATCH", f"/Users/{uid}"),
        ("POST", "/Groups"),
        ("PUT", f"/Groups/{gid}"),
        ("PATCH", f"/Groups/{gid}"),
        ("POST", "/Users/.search"),
        ("POST", "/Groups/.search"),
        ("POST", "/Bulk"),
    ]
    body = oversized()
    headers = {"Authorization": f"Bearer {world.victim.token}", "Content-Type": "application/scim+json"}
    for method, path in targets:
        for announced in (True, False):
            data = body if announced else chunks(body)
            async with world.session.request(method, base + path, data=data, headers=headers) as resp:
                raw = await resp.read()
                where = f"{method} {path} {'Content-Length' if announced else 'chunked'}"
                assert resp.status == 413, f"{where}: {resp.status} {raw[:200]!r}"
                assert resp.headers["Content-Type"].startswith("application/scim+json"), where
                error = json.loads(raw)
                assert error["schemas"] == [ERROR_URN] and error["status"] == "413", where
    assert await fingerprint(world.stack, world.victim.connection_id) == before


async def test_a_body_just_under_the_limit_is_read(world: World) -> None:
    scim = world.client(world.victim)
    padding = MAX_BODY - 200
    resp = await scim.post("/Users", {"userName": "just-under@victim.test", "title": "t" * padding})
    assert resp.status == 201, resp
    assert (await scim.delete(f"/Users/{resp.json['id']}")).status == 204
