"""Checklist §5 lines 1-9 of idp-clients.md: transport, authentication and content types, over real sockets.

Most tests talk to the session stack's edge. The few that need an edge in a state the stack cannot be put
in (a directory that is down, a handler that crashes, a low rate limit) run the edge app in-process on an
ephemeral port, still over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from scim_edge.config import load_settings
from scim_edge.http.app import build_app
from scim_edge.http.middleware import scim_errors
from suite_common.embedded.processes import free_port
from yarl import URL

from tests.support.admin import Admin
from tests.support.scim_asserts import (
    assert_list,
    assert_scim_error,
    assert_scim_json,
    create_group,
    create_user,
    patch_op,
)
from tests.support.scim_client import ScimClient, ScimResponse
from tests.support.stack import Stack

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


async def _send(
    http: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    skip: tuple[str, ...] = (),
) -> ScimResponse:
    async with http.request(method, url, headers=headers, data=data, skip_auto_headers=skip) as resp:
        return ScimResponse(resp.status, resp.headers, await resp.read())


@pytest_asyncio.fixture
async def edge_app(stack: Stack) -> AsyncIterator[TestServer]:
    """An in-process edge with a tiny rate limit, wired to the stack's directory."""
    settings = load_settings(
        {
            "DIRECTORY_ADDR": stack.directory_addr,
            "EDGE_RATE_LIMIT_PER_SECOND": "1",
            "EDGE_RATE_LIMIT_BURST": "3",
        }
    )
    server = TestServer(build_app(settings), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_c01_bearer_token_is_required_and_failures_are_scim_401(scim: ScimClient) -> None:
    assert (await scim.get("/Users")).status == 200
    for auth in ("", "Bearer", "Bearer not-a-token", "non-token", "Basic dXNlcjpwYXNz"):
        resp = await scim.get("/Users", auth=auth)
        body = assert_scim_error(resp, 401)
        assert body["status"] == "401"


async def test_c01_a_valid_token_on_another_connection_is_refused_as_unknown(
    scim: ScimClient, admin: Admin, http: aiohttp.ClientSession, stack: Stack, unique: str
) -> None:
    """The reply must not tell a token holder that its token is valid for some other connection."""
    other = await admin.enable(f"ws-other-{unique}", "dashboard")
    foreign = assert_scim_error(await scim.get("/Users", auth=f"Bearer {other.token}"), 401)
    unknown = assert_scim_error(await scim.get("/Users", auth="Bearer scim_unknown"), 401)
    assert foreign["detail"] == unknown["detail"]
    # The other tenant's own URL still works with its token.
    assert (await ScimClient(http, stack.edge_url, other).get("/Users")).status == 200


async def test_c02_okta_header_mode_raw_token_is_accepted(scim: ScimClient) -> None:
    token = scim.auth.removeprefix("Bearer ")
    resp = await scim.get("/Users", auth=token)
    assert_list(resp)
    assert (await scim.get("/Users", auth=f"bearer {token}")).status == 200


async def test_c03_scim_json_and_plain_json_bodies_are_all_parsed(scim: ScimClient, unique: str) -> None:
    for i, content_type in enumerate(
        (
            "application/scim+json",
            "application/scim+json; charset=utf-8",
            "application/json",
            "application/json; charset=UTF-8",
        )
    ):
        resp = await scim.post(
            "/Users",
            {"schemas": [USER], "userName": f"ct{i}-{unique}@example.com"},
            headers={"Content-Type": content_type},
        )
        assert resp.status == 201, (content_type, resp)
    # Okta's SPEC-test GETs carry a Content-Type and no body.
    listing = await scim.get("/Users", headers={"Content-Type": "application/scim+json; charset=utf-8"})
    assert assert_list(listing)["totalResults"] == 4


async def test_c03_a_non_json_media_type_is_a_scim_415_and_writes_nothing(
    scim: ScimClient, unique: str
) -> None:
    body = json.dumps({"schemas": [USER], "userName": f"xml-{unique}"}).encode()
    resp = await scim.post("/Users", raw=body, headers={"Content-Type": "application/xml"})
    assert_scim_error(resp, 415)
    assert assert_list(await scim.get("/Users"))["totalResults"] == 0


async def test_c04_a_request_without_user_agent_is_served(
    scim: ScimClient, http: aiohttp.ClientSession
) -> None:
    resp = await _send(
        http,
        "GET",
        f"{scim.base}/Users?filter=userName%20eq%20%22{uuid.uuid4()}%22",
        headers={"Authorization": scim.auth},
        skip=("User-Agent",),
    )
    assert assert_list(resp)["totalResults"] == 0


async def test_c05_every_failure_is_scim_json(
    scim: ScimClient, http: aiohttp.ClientSession, stack: Stack
) -> None:
    assert_scim_error(await scim.get("/Users", auth=""), 401)
    assert_scim_error(await scim.get("/Users/00919288221112222"), 404)
    assert_scim_error(await scim.get("/Widgets"), 404)
    assert_scim_error(await scim.delete("/Users"), 405)
    assert_scim_error(await scim.post("/Users", raw=b"<html>not json</html>"), 400, "invalidSyntax")
    # Outside the SCIM base path and outside any connection, the answer is still SCIM JSON.
    for path in ("/", "/nope", "/scim/v2", "/scim/v2/", "/scim/v1/Users"):
        assert_scim_error(await _send(http, "GET", stack.edge_url + path), 404)


async def test_c05_an_unexpected_exception_is_an_opaque_scim_500() -> None:
    """The edge's error middleware: the detail names an incident id and never the exception or a traceback."""

    async def crash(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal state")

    app = web.Application(middlewares=[scim_errors])
    app.router.add_get("/crash", crash)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        resp = await _send(http, "GET", server.make_url("/crash"))
    body = assert_scim_error(resp, 500)
    assert "secret" not in resp.raw.decode() and "RuntimeError" not in resp.raw.decode()
    assert "incident" in body["detail"]


async def test_c05_an_unreachable_directory_is_a_scim_503_with_retry_after() -> None:
    settings = load_settings({"DIRECTORY_ADDR": f"127.0.0.1:{free_port()}", "EDGE_RPC_TIMEOUT_SECONDS": "2"})
    async with TestServer(build_app(settings), host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        resp = await _send(
            http,
            "GET",
            server.make_url(f"/scim/v2/{uuid.uuid4()}/Users"),
            headers={"Authorization": "Bearer whatever"},
        )
    assert_scim_error(resp, 503)
    assert int(resp.headers["Retry-After"]) >= 1


async def test_c06_entra_feature_flag_is_ignored_on_every_endpoint(scim: ScimClient, unique: str) -> None:
    flag = "?aadOptscim062020"
    for path in (
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/ResourceTypes/User",
        "/Schemas",
        "/Users",
        "/Groups",
    ):
        resp = await scim.get(path + flag)
        assert resp.status == 200, (path, resp)
        assert_scim_json(resp)
    created = await scim.post("/Users" + flag, {"schemas": [USER], "userName": f"flag-{unique}"})
    assert created.status == 201, created
    uid = created.json["id"]
    assert (await scim.get(f"/Users/{uid}{flag}")).status == 200
    assert (await scim.get(f"/Users{flag}&filter=userName+eq+%22flag-{unique}%22")).json["totalResults"] == 1
    replaced = await scim.put(
        f"/Users/{uid}{flag}", {"schemas": [USER], "userName": f"flag-{unique}", "title": "Engineer"}
    )
    assert replaced.status == 200 and replaced.json["title"] == "Engineer", replaced
    patched = await scim.patch(
        f"/Users/{uid}{flag}", patch_op({"op": "replace", "path": "active", "value": False})
    )
    # The flag is Entra's: in the `auto` profile the PATCH is answered as Entra's is, 204 (README "Profiles").
    assert patched.status == 204, patched
    assert (await scim.get(f"/Users/{uid}{flag}")).json["active"] is False
    group = await scim.post("/Groups" + flag, {"displayName": f"flag-{unique}", "members": [{"value": uid}]})
    assert group.status == 201, group
    assert (await scim.get(f"/Groups/{group.json['id']}{flag}")).status == 200
    assert (
        await scim.post("/Users/.search" + flag, {"filter": f'userName eq "flag-{unique}"'})
    ).status == 200
    assert (await scim.delete(f"/Groups/{group.json['id']}{flag}")).status == 204
    assert (await scim.delete(f"/Users/{uid}{flag}")).status == 204


async def test_c07_resource_paths_are_case_insensitive_and_allow_a_trailing_slash(
    scim: ScimClient, unique: str
) -> None:
    created = await scim.post("/users", {"schemas": [USER], "userName": f"case-{unique}"})
    assert created.status == 201, created
    uid = created.json["id"]
    for path in ("/users", "/USERS", "/Users/", "/users/"):
        assert assert_list(await scim.get(path))["totalResults"] == 1, path
    for path in (f"/users/{uid}", f"/Users/{uid}/", f"/USERS/{uid}"):
        resp = await scim.get(path)
        assert resp.status == 200 and resp.json["id"] == uid, (path, resp)
    for path in (
        "/serviceproviderconfig",
        "/SERVICEPROVIDERCONFIG/",
        "/schemas/",
        "/resourcetypes/user",
        "/groups/",
    ):
        assert (await scim.get(path)).status == 200, path
    assert (await scim.post("/users/.SEARCH", {"filter": f'userName eq "case-{unique}"'})).json[
        "totalResults"
    ] == 1


async def test_c08_a_256_member_group_patch_is_answered_quickly(scim: ScimClient, unique: str) -> None:
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        async with gate:
            return str((await create_user(scim, f"m{i}-{unique}@example.com"))["id"])

    ids = await asyncio.gather(*(one(i) for i in range(256)))
    group = await create_group(scim, f"big-{unique}")
    started = time.monotonic()
    resp = await scim.patch(
        f"/Groups/{group['id']}",
        patch_op(
            {"op": "add", "path": "members", "value": [{"value": i, "display": f"user {i}"} for i in ids]}
        ),
    )
    elapsed = time.monotonic() - started
    assert resp.status == 200, resp
    # Okta's timeout is 60 s; a budget well below it leaves room for a slow CI machine.
    assert elapsed < 15, elapsed
    members = await scim.get(f"/Groups/{group['id']}")
    assert {m["value"] for m in members.json["members"]} == set(ids)


async def test_c09_a_tenant_is_served_at_25_requests_per_second(scim: ScimClient) -> None:
    gate = asyncio.Semaphore(5)

    async def one() -> int:
        async with gate:
            return (await scim.get("/Users", params={"startIndex": "1", "count": "2"})).status

    started = time.monotonic()
    statuses = await asyncio.gather(*(one() for _ in range(100)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 100
    assert 100 / elapsed >= 25, f"{100 / elapsed:.1f} requests/s"


async def test_c09_throttling_is_a_scim_429_with_retry_after(edge_app: TestServer, scim: ScimClient) -> None:
    base = str(edge_app.make_url("/scim/v2")) + scim.base.split("/scim/v2", 1)[1]
    async with aiohttp.ClientSession() as http:
        responses = [
            await _send(http, "GET", f"{base}/Users", headers={"Authorization": scim.auth}) for _ in range(6)
        ]
    statuses = [r.status for r in responses]
    assert statuses[:3] == [200, 200, 200], statuses
    throttled = [r for r in responses if r.status == 429]
    assert throttled, statuses
    for resp in throttled:
        assert_scim_error(resp, 429)
        assert int(resp.headers["Retry-After"]) >= 1


async def test_a_body_above_the_limit_is_a_scim_413_and_writes_nothing(scim: ScimClient, unique: str) -> None:
    huge = {"schemas": [USER], "userName": f"huge-{unique}", "nickName": "x" * (3 * 1024 * 1024)}
    assert_scim_error(await scim.post("/Users", huge), 413)
    assert assert_list(await scim.get("/Users"))["totalResults"] == 0
