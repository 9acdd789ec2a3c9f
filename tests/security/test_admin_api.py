"""The admin APIs (DirectoryAdmin, PortalAdmin) refuse every caller without the admin credential, on every
method, and a refused call changes nothing. They are gRPC only: no path of the SCIM edge reaches them."""

from __future__ import annotations

from typing import Any

import asyncpg
import grpc
from google.protobuf.message import Message
from scimsuite.admin.v1 import admin_pb2
from scimsuite.portal.v1 import portal_pb2

from tests.security.conftest import World, fingerprint


def _request(module: Any, method: Any, world: World) -> Message:
    """The method's request, aimed at the victim wherever a field names a workspace or portal."""
    message: Message = getattr(module, method.input_type.name)()
    for field in message.DESCRIPTOR.fields:
        if field.type != field.TYPE_STRING or field.is_repeated:
            continue
        if field.name in ("workspace", "workspace_id"):
            setattr(message, field.name, world.victim.workspace_id)
        elif field.name == "portal":
            setattr(message, field.name, "store")
    return message


async def _portal_state(world: World) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(world.stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT 'w', count(*)::text FROM directory.workspaces UNION ALL "
            "SELECT 'b', count(*)::text FROM portal.behaviours UNION ALL "
            "SELECT 'r', count(*)::text FROM portal.role_mappings UNION ALL "
            "SELECT 'p', count(*)::text FROM portal.policies UNION ALL "
            "SELECT 'd', count(*)::text FROM portal.devices ORDER BY 1"
        )
        return [tuple(r) for r in rows]
    finally:
        await conn.close()


async def test_admin_apis_refuse_callers_without_the_admin_credential(world: World) -> None:
    before = (await fingerprint(world.stack, world.victim.connection_id), await _portal_state(world))
    wrong: list[tuple[tuple[str, str], ...]] = [
        (),
        (("x-admin-token", "not-the-admin-token"),),
        (("x-admin-token", world.victim.token),),  # a SCIM token is no admin credential
        (("authorization", f"Bearer {world.stack.admin_token}"),),  # the right secret in the wrong header
        (("x-admin-token", world.stack.admin_token + " "),),
        (("x-admin-token", world.stack.admin_token.upper()),),
        (("x-admin-token", world.stack.admin_token[:-1]),),
    ]
    refused = 0
    services = [
        (world.stack.directory_addr, admin_pb2, "scimsuite.admin.v1.DirectoryAdmin"),
        (world.stack.portal_addr, portal_pb2, "scimsuite.portal.v1.PortalAdmin"),
    ]
    for addr, module, service_name in services:
        service = module.DESCRIPTOR.services_by_name[service_name.rsplit(".", 1)[1]]
        assert len(service.methods) >= 10
        async with grpc.aio.insecure_channel(addr) as channel:
            for method in service.methods:
                request = _request(module, method, world)
                call = channel.unary_unary(
                    f"/{service_name}/{method.name}",
                    request_serializer=lambda m: m.SerializeToString(),
                    response_deserializer=lambda b: b,
                )
                for metadata in wrong:
                    try:
                        await call(request, metadata=metadata, timeout=5)
                    except grpc.aio.AioRpcError as exc:
                        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, (method.name, metadata, exc)
                        assert world.stack.admin_token not in (exc.details() or "")
                        refused += 1
                    else:
                        raise AssertionError(f"{service_name}/{method.name} answered {metadata}")
    assert refused == sum(
        len(m.DESCRIPTOR.services_by_name[s.rsplit(".", 1)[1]].methods) for _, m, s in services
    ) * len(wrong)
    assert (await fingerprint(world.stack, world.victim.connection_id), await _portal_state(world)) == before


async def test_no_scim_path_reaches_the_admin_api(world: World) -> None:
    scim = world.client(world.victim)
    for path in ("/admin", "/Admin/Workspaces", "/../admin", "/DirectoryAdmin/ListWorkspaces", "/tokens"):
        found = await scim.get(path)
        # `/../admin` normalises to the SCIM root of a connection named "admin": 501, not the admin API.
        assert found.status in (404, 501), (path, found)
        assert world.victim.workspace not in found.raw.decode(), path
    for raw in ("/admin", "/scimsuite.admin.v1.DirectoryAdmin/ListWorkspaces", "/metrics/../admin"):
        async with world.session.post(
            world.stack.edge_url + raw, headers={"x-admin-token": world.stack.admin_token}
        ) as resp:
            assert resp.status in (404, 405), raw
            assert world.victim.workspace not in (await resp.text())
