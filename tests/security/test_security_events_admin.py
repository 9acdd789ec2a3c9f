"""Issue 15: SecurityEventsAdmin refuses every caller without the admin credential, on every method, and a
refused call changes nothing; a SCIM token is no poll token, and the transmitter serves no admin method."""

from __future__ import annotations

import asyncpg
import grpc
from scimsuite.events_out.v1 import events_out_pb2

from tests.security.conftest import World

SERVICE = "scimsuite.events_out.v1.SecurityEventsAdmin"


async def _state(world: World) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(world.stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT 's', count(*) FROM security_events.streams UNION ALL "
            "SELECT 'r', count(*) FROM security_events.receivers UNION ALL "
            "SELECT 'k', count(*) FROM security_events.signing_keys ORDER BY 1"
        )
        return [tuple(r) for r in rows]
    finally:
        await conn.close()


async def test_security_events_admin_refuses_callers_without_the_admin_credential(world: World) -> None:
    before = await _state(world)
    wrong: list[tuple[tuple[str, str], ...]] = [
        (),
        (("x-admin-token", "not-the-admin-token"),),
        (("x-admin-token", world.victim.token),),
        (("authorization", f"Bearer {world.stack.admin_token}"),),
        (("x-admin-token", world.stack.admin_token[:-1]),),
    ]
    service = events_out_pb2.DESCRIPTOR.services_by_name["SecurityEventsAdmin"]
    assert len(service.methods) == 8
    refused = 0
    async with grpc.aio.insecure_channel(world.stack.security_events_addr) as channel:
        for method in service.methods:
            message = getattr(events_out_pb2, method.input_type.name)()
            for field in message.DESCRIPTOR.fields:
                if field.name == "workspace_id":
                    message.workspace_id = world.victim.workspace_id
                elif field.name == "portal":
                    message.portal = "store"
            call = channel.unary_unary(
                f"/{SERVICE}/{method.name}",
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=lambda b: b,
            )
            for metadata in wrong:
                try:
                    await call(message, metadata=metadata, timeout=5)
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, (method.name, metadata, exc)
                    refused += 1
                else:
                    raise AssertionError(f"{method.name} answered {metadata}")
    assert refused == 8 * len(wrong)
    assert await _state(world) == before


async def test_a_scim_token_is_no_poll_token(world: World) -> None:
    for token in (world.victim.token, world.stack.admin_token):
        async with world.session.post(
            f"{world.stack.edge_url}/scim-events/poll",
            json={"returnImmediately": True},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status == 401 and (await resp.json())["err"] == "authentication_failed"
