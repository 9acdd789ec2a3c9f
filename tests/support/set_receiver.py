"""A SET receiver for the tests (issue 15): verifies every SET against the stream's JWKS on the edge and
against RFC 9967, and records what it received. It serves RFC 8935 push on loopback, or polls (RFC 8936).
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc
import jwt
from aiohttp import web
from jwt import PyJWK
from scimsuite.events_out.v1 import events_out_pb2 as pb
from scimsuite.events_out.v1 import events_out_pb2_grpc

from tests.support.stack import Stack

PROV = "urn:ietf:params:scim:event:prov:"
PAYLOAD_EVENTS = {f"{PROV}{op}:{v}" for op in ("create", "patch", "put") for v in ("full", "notice")}
EMPTY_EVENTS = {f"{PROV}delete", f"{PROV}activate", f"{PROV}deactivate"}
_VERSION = re.compile(r'^W/"(\d+)"$')


def check_set_claims(claims: dict[str, Any], issuer: str, audience: str) -> None:
    """RFC 8417 §2.2 and RFC 9967 §2.1-§2.4, as a receiver checks them."""
    assert "sub" not in claims, "RFC 9967 §2.1: never `sub`"
    assert claims["iss"] == issuer and claims["aud"] == audience
    assert isinstance(claims["iat"], int) and isinstance(claims["jti"], str) and claims["jti"]
    assert isinstance(claims["txn"], str) and claims["txn"]
    sub = claims["sub_id"]
    assert sub["format"] == "scim" and re.fullmatch(r"/(Users|Groups)/[0-9a-f-]{36}", sub["uri"]), sub
    assert claims["events"], "at least one event"
    for uri, payload in claims["events"].items():
        if uri in EMPTY_EVENTS:
            assert payload == {}, (uri, payload)
            continue
        assert uri in PAYLOAD_EVENTS, uri
        assert ("data" in payload) != ("attributes" in payload), "exactly one of data / attributes"
        assert ("data" in payload) == uri.endswith(":full")
        assert _VERSION.match(payload["version"]), payload
        if "data" in payload:
            assert payload["data"]["id"] == sub["uri"].rsplit("/", 1)[1]
            assert payload["data"]["meta"]["location"] == f"{issuer}{sub['uri']}"
        else:
            assert all(isinstance(a, str) for a in payload["attributes"])


def version_of(claims: dict[str, Any]) -> int | None:
    for payload in claims["events"].values():
        if "version" in payload:
            m = _VERSION.match(payload["version"])
            return int(m.group(1)) if m else None
    return None


@dataclass
class Verifier:
    http: aiohttp.ClientSession
    jwks_url: str
    keys: dict[str, PyJWK] = field(default_factory=dict)

    async def _refresh(self) -> None:
        async with self.http.get(self.jwks_url) as resp:
            assert resp.status == 200, await resp.text()
            assert resp.content_type == "application/jwk-set+json"
            doc = json.loads(await resp.read())
        self.keys = {k["kid"]: PyJWK(k) for k in doc["keys"]}

    async def verify(self, token: str, issuer: str, audience: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        assert header["typ"] == "secevent+jwt", header
        if header["kid"] not in self.keys:
            await self._refresh()
        key = self.keys[header["kid"]]
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=[header["alg"]], audience=audience, issuer=issuer
        )
        check_set_claims(claims, issuer, audience)
        return claims


@dataclass
class Received:
    """What a receiver got, in arrival order; `by_subject` keeps each subject's order."""

    sets: list[dict[str, Any]] = field(default_factory=list)

    def add(self, claims: dict[str, Any]) -> None:
        self.sets.append(claims)

    def by_subject(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for c in self.sets:
            out.setdefault(c["sub_id"]["uri"], []).append(c)
        return out

    def txns(self) -> list[str]:
        return [c["txn"] for c in self.sets]

    def distinct(self) -> Received:
        """Repeats dropped by `txn`, as RFC 9967 §2.2 lets a receiver do; a repeat must be the same SET."""
        seen: dict[str, dict[str, Any]] = {}
        for c in self.sets:
            if c["txn"] in seen:
                assert seen[c["txn"]]["jti"] == c["jti"], "a repeat is a resend, not a new SET"
            else:
                seen[c["txn"]] = c
        return Received(list(seen.values()))


class PushReceiver:
    """RFC 8935 receiver on loopback. `answers` scripts non-202 replies, consumed one per request
    (status 0: the connection closes mid-response)."""

    def __init__(self, verifier: Verifier, issuer: str, authorization: str) -> None:
        self.verifier = verifier
        self.issuer = issuer
        self.authorization = authorization
        self.audience = ""
        self.received = Received()
        self.requests = 0
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.port = 0
        # While set and not open, requests are held (a slow receiver); `held` counts those waiting.
        self.gate: asyncio.Event | None = None
        self.held = 0

    async def start(self, port: int = 0) -> PushReceiver:
        """Listen on loopback (again on the same port after `stop`, to play a receiver restart)."""
        app = web.Application()
        app.router.add_post("/events", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.port = port
        self.url = f"http://127.0.0.1:{port}/events"
        self.audience = self.audience or self.url
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        assert request.headers["Content-Type"] == "application/secevent+jwt"
        assert request.headers.get("Authorization") == self.authorization
        token = (await request.read()).decode()
        if self.gate is not None and not self.gate.is_set():
            self.held += 1
            await self.gate.wait()
        if self.answers:
            status, headers, body = self.answers.pop(0)
            if status == 0:  # scripted: close the connection mid-response, a status line half sent
                assert request.transport is not None
                request.transport.write(b"HTTP/1.1 20")
                request.transport.close()
                raise web.HTTPException()  # never answered: the connection is already gone
            return web.Response(status=status, headers=headers, body=body)
        try:
            claims = await self.verifier.verify(token, self.issuer, self.audience)
        except (AssertionError, jwt.PyJWTError, KeyError) as exc:
            error = json.dumps({"err": "invalid_request", "description": repr(exc)[:300]})
            return web.Response(status=400, text=error, content_type="application/json")
        self.received.add(claims)
        return web.Response(status=202)


async def start_on_one_port(receivers: list[PushReceiver]) -> None:
    """Serve several receivers from one loopback port, each on its own path (one host, one port: what a
    shared HTTP connection pool would make them compete for)."""
    app = web.Application()
    for i, rcv in enumerate(receivers):
        app.router.add_post(f"/events/{i}", rcv._handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for i, rcv in enumerate(receivers):
        rcv.url = f"http://127.0.0.1:{port}/events/{i}"
        rcv.audience = rcv.audience or rcv.url
        rcv.port = port
    receivers[0].runner = runner  # stopping the first stops the shared server


class PollReceiver:
    """RFC 8936 receiver: each poll acknowledges what the previous one verified."""

    def __init__(
        self, http: aiohttp.ClientSession, edge_url: str, token: str, verifier: Verifier, issuer: str
    ):
        self.http = http
        self.url = f"{edge_url}/scim-events/poll"
        self.token = token
        self.verifier = verifier
        self.issuer = issuer
        self.audience = ""
        self.received = Received()
        self.to_ack: list[str] = []

    async def request(self, body: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token if token is None else token}"}
        async with self.http.post(self.url, json=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    async def poll(self, max_events: int = 50, immediately: bool = True, ack: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"ack": self.to_ack if ack else [], "returnImmediately": immediately}
        body["maxEvents"] = max_events
        status, doc = await self.request(body)
        assert status == 200, doc
        assert set(doc) == {"sets", "moreAvailable"}, doc
        if ack:
            self.to_ack = []
        for jti, token in doc["sets"].items():
            claims = await self.verifier.verify(token, self.issuer, self.audience)
            assert claims["jti"] == jti
            self.received.add(claims)
            self.to_ack.append(jti)
        return dict(doc)


class StreamsAdmin:
    """security-events' admin API with the stack's admin credential."""

    def __init__(self, stack: Stack) -> None:
        self.md = (("x-admin-token", stack.admin_token),)
        self.channel = grpc.aio.insecure_channel(stack.security_events_addr)
        self.stub = events_out_pb2_grpc.SecurityEventsAdminStub(self.channel)

    async def close(self) -> None:
        await self.channel.close(grace=None)

    async def create(self, workspace_id: str, portal: str, alg: str = "") -> pb.Stream:
        return await self.stub.CreateStream(
            pb.CreateStreamRequest(workspace_id=workspace_id, portal=portal, alg=alg), metadata=self.md
        )

    async def add_push(self, stream_id: str, url: str, authorization: str, events: list[str]) -> pb.Receiver:
        reply = await self.stub.AddReceiver(
            pb.AddReceiverRequest(
                stream_id=stream_id,
                delivery="push",
                endpoint_url=url,
                authorization=authorization,
                events=events,
            ),
            metadata=self.md,
        )
        return reply.receiver

    async def add_poll(self, stream_id: str, events: list[str]) -> tuple[pb.Receiver, str]:
        reply = await self.stub.AddReceiver(
            pb.AddReceiverRequest(stream_id=stream_id, delivery="poll", events=events), metadata=self.md
        )
        return reply.receiver, reply.poll_token

    async def list_first(self, tenant: Any) -> pb.Stream:
        reply = await self.stub.ListStreams(
            pb.ListStreamsRequest(workspace_id=tenant.workspace_id), metadata=self.md
        )
        return reply.streams[0]

    async def get(self, stream_id: str) -> pb.Stream:
        return await self.stub.GetStream(pb.StreamRef(stream_id=stream_id), metadata=self.md)
