"""Bearer tokens: stored only as SHA-256 hashes, compared in constant time, and never written to a log line
or an error body, whether they are valid, forged or sent in the wrong place."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import asyncpg
import grpc
import pytest
from directory.adapters.postgres import tenants
from directory.bootstrap import ADMIN_SERVICE as DIRECTORY_ADMIN
from portal_actions.bootstrap import ADMIN_SERVICE as PORTAL_ADMIN
from scimsuite.admin.v1 import admin_pb2
from suite_common.admin_credential import AdminCredentialCheck

from tests.security.conftest import MAX_BODY, World, all_logs
from tests.support.scim_client import ScimClient


async def test_tokens_are_stored_only_as_sha256_hashes(world: World) -> None:
    rotated = await world.admin.directory.RotateToken(
        admin_pb2.RotateTokenRequest(
            workspace=world.victim.workspace_id, portal="store", overlap_seconds=3600
        ),
        metadata=world.admin.md,
    )
    conn = await asyncpg.connect(world.stack.database_url)
    try:
        for tenant, token in [
            (world.victim, world.victim.token),
            (world.victim, rotated.token),
            (world.other_workspace, world.other_workspace.token),
        ]:
            stored = await conn.fetchval(
                "SELECT token_hash FROM directory.tokens WHERE connection_id = $1::uuid AND token_hash = $2",
                tenant.connection_id,
                hashlib.sha256(token.encode()).digest(),
            )
            assert stored is not None and len(stored) == 32
            # The plaintext is nowhere in the database: every row of every table, as text and as hex.
            tables = await conn.fetch(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t "
                "FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
            assert len(tables) > 10
            for row in tables:
                found = await conn.fetchval(
                    f"SELECT count(*) FROM {row['t']} x WHERE x::text LIKE '%' || $1 || '%' "
                    f"OR x::text LIKE '%' || $2 || '%'",
                    token,
                    token.encode().hex(),
                )
                assert found == 0, f"the token is stored in {row['t']}"
    finally:
        await conn.close()


class _FakeConn:
    def __init__(self, stored: bytes) -> None:
        self.stored = stored
        self.args: tuple[Any, ...] = ()

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any]:
        self.args = args
        return {
            "token_hash": self.stored,
            "id": "c",
            "workspace_id": "w",
            "portal": "store",
            "custom_schemas": [],
            "scim_profile": "auto",
            "detected_idp": None,
            "expires_in": None,
        }


async def test_bearer_tokens_are_looked_up_by_hash_and_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    token = "scim_" + secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).digest()
    conn = _FakeConn(digest)
    assert await tenants.authenticate(conn, token) is not None  # type: ignore[arg-type]
    # The query carries the hash, never the token; the verdict comes from the constant-time compare.
    assert conn.args == (digest,) and token not in repr(conn.args)
    assert calls == [(digest, digest)]
    conn = _FakeConn(hashlib.sha256(b"another").digest())
    assert await tenants.authenticate(conn, token) is None  # type: ignore[arg-type]


class _Aborted(Exception):
    pass


class _Context:
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata
        self.code: grpc.StatusCode | None = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        raise _Aborted(details)


@pytest.mark.parametrize("service", [DIRECTORY_ADMIN, PORTAL_ADMIN])
@pytest.mark.parametrize(
    "configured, supplied",
    [("right-token", "wrong-token"), ("right-token", ""), ("", ""), ("right-token", "right-tokenX")],
)
async def test_admin_credential_is_compared_in_constant_time_and_empty_disables_the_api(
    monkeypatch: pytest.MonkeyPatch, service: str, configured: str, supplied: str
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    check = AdminCredentialCheck(configured, [service])
    ran = []

    async def servicer_method(request: Any, context: Any) -> None:
        ran.append(True)

    async def continuation(_: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(servicer_method)

    details = _CallDetails(f"/{service}/ListWorkspaces", (("x-admin-token", supplied),))
    handler = await check.intercept_service(continuation, details)  # type: ignore[arg-type]
    context = _Context(details.invocation_metadata)
    with pytest.raises(_Aborted):
        assert handler.unary_unary is not None
        await handler.unary_unary(None, context)  # type: ignore[arg-type]
    assert context.code == grpc.StatusCode.UNAUTHENTICATED and not ran
    assert compared == ([] if not configured else [(supplied.encode(), configured.encode())])


class _CallDetails:
    def __init__(self, method: str, metadata: tuple[tuple[str, str], ...]) -> None:
        self.method = method
        self.invocation_metadata = metadata


async def test_no_token_in_logs_or_error_bodies(world: World) -> None:
    """Valid, rotated and forged tokens travel in every way a client might send them, through successes and
    every kind of error. None of them appears in any answer, nor in any line the services logged."""
    forged = ["scim_" + secrets.token_urlsafe(32) for _ in range(3)]
    tokens = [*world.tokens, *forged]
    victim = world.client(world.victim)
    bodies: list[bytes] = []
    uid = world.user_ids[0]
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/Users", {}),
        ("GET", f"/Users/{uid}", {}),
        ("GET", "/Users/not-there", {}),
        ("POST", "/Users", {"raw": b'{"userName": '}),
        ("POST", "/Users", {"body": {"userName": world.user_names[0]}}),
        ("POST", "/Users", {"raw": b"x" * (MAX_BODY + 10)}),
        ("POST", "/Users", {"raw": b"<xml/>", "headers": {"Content-Type": "application/xml"}}),
        ("PUT", "/Schemas", {}),
        ("GET", "/Users", {"params": {"filter": 'userName eq "unterminated'}}),
        ("PATCH", f"/Users/{uid}", {"body": {"Operations": [{"op": "nonsense"}]}}),
        ("PUT", f"/Users/{uid}", {"body": {"userName": "x@y.test"}, "headers": {"If-Match": 'W/"999"'}}),
        ("GET", "/ServiceProviderConfig", {}),
    ]
    for token in tokens:
        # The Bearer scheme, Okta's header mode (the bare token), and a token misplaced in the query string.
        for auth, params in ((f"Bearer {token}", {}), (token, {}), ("", {"access_token": token})):
            for method, path, extra in requests:
                kw = dict(extra)
                kw["params"] = {**kw.get("params", {}), **params}
                resp = await victim.request(method, path, kw.pop("body", None), auth=auth, **kw)
                bodies.append(resp.raw)
                assert resp.status < 500, resp
    admin_side = ScimClient(world.session, world.stack.edge_url, world.other_workspace)
    bodies.append((await admin_side.get("/Users", auth=f"Bearer {world.victim.token}")).raw)
    for token in tokens:
        for body in bodies:
            assert token.encode() not in body
    logs = all_logs(world.stack)
    assert len(logs) > 10_000, "the services logged next to nothing: is logging on?"
    for token in tokens:
        assert token not in logs, "a token was logged"
        assert token[5:] not in logs, "a token's secret part was logged"
