"""The PortalAdmin gRPC servicer. The admin credential is checked before any of this runs
(`suite_common.admin_credential.AdminCredentialCheck`); errors map to statuses in `grpc_status.ADMIN_API`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from scimsuite.portal.v1 import portal_pb2, portal_pb2_grpc
from suite_common import jsonutil

from portal_actions.domain.behaviour import DEFAULT_ROLE_SETTLE_SECONDS, Behaviour
from portal_actions.entrypoints.grpc_status import ADMIN_API
from portal_actions.service_layer.admin import PortalAdmin

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


def _behaviour_pb(b: Behaviour) -> portal_pb2.Behaviour:
    return portal_pb2.Behaviour(
        workspace_id=b.workspace_id,
        portal=b.portal,
        on_create=b.on_create,
        default_role=b.default_role,
        on_deactivate=b.on_deactivate,
        deactivate_policy=b.deactivate_policy,
        role_settle_seconds=b.role_settle_seconds,
    )


def _behaviour(b: portal_pb2.Behaviour) -> Behaviour:
    settle = b.role_settle_seconds if b.HasField("role_settle_seconds") else DEFAULT_ROLE_SETTLE_SECONDS
    return Behaviour(
        workspace_id=b.workspace_id,
        portal=b.portal,
        on_create=b.on_create,
        on_deactivate=b.on_deactivate,
        default_role=b.default_role or "viewer",
        deactivate_policy=b.deactivate_policy,
        role_settle_seconds=settle,
    )


def _device_pb(workspace_id: str, row: Any) -> portal_pb2.Device:
    return portal_pb2.Device(
        workspace_id=workspace_id,
        serial=row["serial"],
        user_name=row["user_name"] or "",
        policy=row["policy"] or "",
    )


def _account_pb(r: dict[str, Any]) -> portal_pb2.Account:
    return portal_pb2.Account(
        user_id=str(r["user_id"]),
        user_name=r["user_name"],
        status=r["status"],
        role=r["role"] or "",
        metadata_json=jsonutil.dumps(r["metadata"] or {}),
        groups=list(r["group_names"]),
        devices=[portal_pb2.DeviceRef(serial=d["serial"], policy=d["policy"] or "") for d in r["devices"]],
    )


def _audit_pb(r: Any) -> portal_pb2.AuditEntry:
    return portal_pb2.AuditEntry(
        at=r["at"].isoformat(),
        portal=r["portal"],
        user_name=r["user_name"] or "",
        user_id=str(r["user_id"] or ""),
        action=r["action"],
        result=r["result"],
        reason=r["reason"],
        event_id=str(r["event_id"] or ""),
        request_id=r["request_id"] or "",
        detail=r["detail"] or "",
        group_name=r["group_name"] or "",
        mode=r["mode"],
    )


class PortalAdminServicer(portal_pb2_grpc.PortalAdminServicer):
    def __init__(self, admin: PortalAdmin) -> None:
        self.admin = admin

    async def _run(self, context: Context, call: Callable[[], Awaitable[T]]) -> T:
        return await ADMIN_API.run(context, call)

    async def SetBehaviour(
        self, request: portal_pb2.SetBehaviourRequest, context: Context
    ) -> portal_pb2.Behaviour:
        async def call() -> portal_pb2.Behaviour:
            return _behaviour_pb(await self.admin.set_behaviour(_behaviour(request.behaviour)))

        return await self._run(context, call)

    async def GetBehaviour(
        self, request: portal_pb2.GetBehaviourRequest, context: Context
    ) -> portal_pb2.Behaviour:
        async def call() -> portal_pb2.Behaviour:
            return _behaviour_pb(await self.admin.behaviour(request.workspace_id, request.portal))

        return await self._run(context, call)

    async def MapRole(self, request: portal_pb2.MapRoleRequest, context: Context) -> portal_pb2.RoleMapping:
        m = request.mapping

        async def call() -> portal_pb2.RoleMapping:
            group, role = await self.admin.map_role(m.workspace_id, m.group, m.role)
            return portal_pb2.RoleMapping(workspace_id=m.workspace_id, group=group, role=role)

        return await self._run(context, call)

    async def ListRoleMappings(
        self, request: portal_pb2.ListRoleMappingsRequest, context: Context
    ) -> portal_pb2.ListRoleMappingsResponse:
        async def call() -> portal_pb2.ListRoleMappingsResponse:
            rows = await self.admin.role_mappings(request.workspace_id)
            return portal_pb2.ListRoleMappingsResponse(
                mappings=[
                    portal_pb2.RoleMapping(
                        workspace_id=request.workspace_id, group=r["group_name"], role=r["role"]
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)

    async def MapAttribute(
        self, request: portal_pb2.MapAttributeRequest, context: Context
    ) -> portal_pb2.AttributeMapping:
        m = request.mapping

        async def call() -> portal_pb2.AttributeMapping:
            attribute, key = await self.admin.map_attribute(
                m.workspace_id, m.portal, m.scim_attribute, m.metadata_key
            )
            return portal_pb2.AttributeMapping(
                workspace_id=m.workspace_id,
                portal=m.portal.lower(),
                scim_attribute=attribute,
                metadata_key=key,
            )

        return await self._run(context, call)

    async def ListAttributeMappings(
        self, request: portal_pb2.ListAttributeMappingsRequest, context: Context
    ) -> portal_pb2.ListAttributeMappingsResponse:
        async def call() -> portal_pb2.ListAttributeMappingsResponse:
            rows = await self.admin.attribute_mappings(request.workspace_id, request.portal)
            return portal_pb2.ListAttributeMappingsResponse(
                mappings=[
                    portal_pb2.AttributeMapping(
                        workspace_id=request.workspace_id,
                        portal=request.portal,
                        scim_attribute=r["scim_attribute"],
                        metadata_key=r["metadata_key"],
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)

    async def AddPolicy(self, request: portal_pb2.AddPolicyRequest, context: Context) -> portal_pb2.Policy:
        async def call() -> portal_pb2.Policy:
            name = await self.admin.add_policy(request.policy.workspace_id, request.policy.name)
            return portal_pb2.Policy(workspace_id=request.policy.workspace_id, name=name)

        return await self._run(context, call)

    async def RemovePolicy(
        self, request: portal_pb2.RemovePolicyRequest, context: Context
    ) -> portal_pb2.Policy:
        async def call() -> portal_pb2.Policy:
            await self.admin.remove_policy(request.workspace_id, request.name)
            return portal_pb2.Policy(workspace_id=request.workspace_id, name=request.name)

        return await self._run(context, call)

    async def ListPolicies(
        self, request: portal_pb2.ListPoliciesRequest, context: Context
    ) -> portal_pb2.ListPoliciesResponse:
        async def call() -> portal_pb2.ListPoliciesResponse:
            names = await self.admin.policies(request.workspace_id)
            return portal_pb2.ListPoliciesResponse(
                policies=[portal_pb2.Policy(workspace_id=request.workspace_id, name=n) for n in names]
            )

        return await self._run(context, call)

    async def AddDevice(self, request: portal_pb2.AddDeviceRequest, context: Context) -> portal_pb2.Device:
        d = request.device

        async def call() -> portal_pb2.Device:
            return _device_pb(
                d.workspace_id, await self.admin.add_device(d.workspace_id, d.serial, d.user_name, d.policy)
            )

        return await self._run(context, call)

    async def AssignDevice(
        self, request: portal_pb2.AssignDeviceRequest, context: Context
    ) -> portal_pb2.Device:
        async def call() -> portal_pb2.Device:
            row = await self.admin.assign_device(request.workspace_id, request.serial, request.user_name)
            return _device_pb(request.workspace_id, row)

        return await self._run(context, call)

    async def SetDevicePolicy(
        self, request: portal_pb2.SetDevicePolicyRequest, context: Context
    ) -> portal_pb2.Device:
        async def call() -> portal_pb2.Device:
            row = await self.admin.set_device_policy(request.workspace_id, request.serial, request.policy)
            return _device_pb(request.workspace_id, row)

        return await self._run(context, call)

    async def RemoveDevice(
        self, request: portal_pb2.RemoveDeviceRequest, context: Context
    ) -> portal_pb2.Device:
        async def call() -> portal_pb2.Device:
            await self.admin.remove_device(request.workspace_id, request.serial)
            return portal_pb2.Device(workspace_id=request.workspace_id, serial=request.serial)

        return await self._run(context, call)

    async def ListDevices(
        self, request: portal_pb2.ListDevicesRequest, context: Context
    ) -> portal_pb2.ListDevicesResponse:
        async def call() -> portal_pb2.ListDevicesResponse:
            rows = await self.admin.devices(request.workspace_id)
            return portal_pb2.ListDevicesResponse(devices=[_device_pb(request.workspace_id, r) for r in rows])

        return await self._run(context, call)

    async def ListAccounts(
        self, request: portal_pb2.ListAccountsRequest, context: Context
    ) -> portal_pb2.ListAccountsResponse:
        async def call() -> portal_pb2.ListAccountsResponse:
            rows = await self.admin.accounts(request.workspace_id, request.portal, request.include_removed)
            return portal_pb2.ListAccountsResponse(accounts=[_account_pb(r) for r in rows])

        return await self._run(context, call)

    async def ListGroups(
        self, request: portal_pb2.ListGroupsRequest, context: Context
    ) -> portal_pb2.ListGroupsResponse:
        async def call() -> portal_pb2.ListGroupsResponse:
            rows = await self.admin.groups(request.workspace_id, request.portal, request.member_user_name)
            return portal_pb2.ListGroupsResponse(
                groups=[
                    portal_pb2.PortalGroup(
                        group_id=str(r["group_id"]),
                        display_name=r["display_name"],
                        member_user_names=list(r["members"]),
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)

    async def QueryAudit(
        self, request: portal_pb2.QueryAuditRequest, context: Context
    ) -> portal_pb2.QueryAuditResponse:
        async def call() -> portal_pb2.QueryAuditResponse:
            rows = await self.admin.audit(request.workspace_id, request.user_name, request.limit)
            return portal_pb2.QueryAuditResponse(entries=[_audit_pb(r) for r in rows])

        return await self._run(context, call)

    async def ListDeadLetters(
        self, request: portal_pb2.ListDeadLettersRequest, context: Context
    ) -> portal_pb2.ListDeadLettersResponse:
        async def call() -> portal_pb2.ListDeadLettersResponse:
            rows = await self.admin.dead_letters()
            return portal_pb2.ListDeadLettersResponse(
                dead_letters=[
                    portal_pb2.DeadLetter(
                        event_id=r["event_id"],
                        subject=r["subject"],
                        error=r["error"],
                        deliveries=r["deliveries"],
                        at=r["at"].isoformat(),
                    )
                    for r in rows
                ]
            )

        return await self._run(context, call)
