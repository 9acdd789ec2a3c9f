"""scimctl's commands: each takes parsed arguments and the two admin stubs, and returns a JSON-able dict."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from scimsuite.portal.v1 import portal_pb2, portal_pb2_grpc


class Clients:
    def __init__(self, directory: admin_pb2_grpc.DirectoryAdminStub, portal: portal_pb2_grpc.PortalAdminStub,
                 metadata: tuple[tuple[str, str], ...]) -> None:
        self.directory = directory
        self.portal = portal
        self.md = metadata

    def workspace_id(self, ref: str) -> str:
        ws = self.directory.GetWorkspace(admin_pb2.GetWorkspaceRequest(workspace=ref), metadata=self.md)
        return str(ws.id)


def parse_duration(text: str) -> int:
    """`90`, `90s`, `10m`, `2h`, `1d` → seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30s, 10m, 2h)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _behaviour(b: portal_pb2.Behaviour) -> dict[str, Any]:
    out: dict[str, Any] = {"on_create": b.on_create, "on_deactivate": b.on_deactivate}
    if b.portal == "dashboard":
        out["default_role"] = b.default_role
        out["role_settle_seconds"] = b.role_settle_seconds
    if b.deactivate_policy:
        out["policy"] = b.deactivate_policy
    return out


def workspace_create(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws = c.directory.CreateWorkspace(admin_pb2.CreateWorkspaceRequest(name=a.name, if_missing=a.if_missing), metadata=c.md)
    return {"id": ws.id, "name": ws.name, "created_at": ws.created_at}


def workspace_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListWorkspaces(admin_pb2.ListWorkspacesRequest(), metadata=c.md)
    return {"workspaces": [{"id": w.id, "name": w.name, "created_at": w.created_at} for w in reply.workspaces]}


def _set_behaviour_if_asked(c: Clients, a: argparse.Namespace, ws_id: str) -> portal_pb2.Behaviour:
    current = c.portal.GetBehaviour(portal_pb2.GetBehaviourRequest(workspace_id=ws_id, portal=a.portal), metadata=c.md)
    asked = any(getattr(a, k, None) is not None for k in ("on_create", "on_deactivate", "default_role", "policy",
                                                          "role_settle"))
    if not asked:
        return current
    wanted = portal_pb2.Behaviour(
        workspace_id=ws_id, portal=a.portal,
        on_create=a.on_create if a.on_create is not None else current.on_create,
        on_deactivate=a.on_deactivate if a.on_deactivate is not None else current.on_deactivate,
        default_role=a.default_role if a.default_role is not None else current.default_role,
        deactivate_policy=a.policy if a.policy is not None else current.deactivate_policy,
        role_settle_seconds=a.role_settle if a.role_settle is not None else current.role_settle_seconds,
    )
    return c.portal.SetBehaviour(portal_pb2.SetBehaviourRequest(behaviour=wanted), metadata=c.md)


def scim_enable(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws_id = c.workspace_id(a.workspace)
    # The behaviour is validated and stored first, so a bad option enables nothing.
    behaviour = _set_behaviour_if_asked(c, a, ws_id)
    creds = c.directory.EnableScim(admin_pb2.EnableScimRequest(workspace=ws_id, portal=a.portal), metadata=c.md)
    return {"base_url": creds.base_url, "token": creds.token, "workspace_id": ws_id, "portal": a.portal,
            "connection_id": creds.connection.id, "behaviour": _behaviour(behaviour)}


def scim_configure(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws_id = c.workspace_id(a.workspace)
    behaviour = _set_behaviour_if_asked(c, a, ws_id)
    return {"workspace_id": ws_id, "portal": a.portal, "behaviour": _behaviour(behaviour)}


def scim_disable(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    conn = c.directory.DisableScim(admin_pb2.DisableScimRequest(workspace=a.workspace, portal=a.portal), metadata=c.md)
    return {"connection_id": conn.id, "portal": conn.portal, "enabled": conn.enabled}


def scim_rotate(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    creds = c.directory.RotateToken(
        admin_pb2.RotateTokenRequest(workspace=a.workspace, portal=a.portal, overlap_seconds=a.overlap), metadata=c.md
    )
    return {"base_url": creds.base_url, "token": creds.token, "overlap_seconds": a.overlap}


def scim_revoke(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.RevokeTokens(admin_pb2.RevokeTokensRequest(workspace=a.workspace, portal=a.portal), metadata=c.md)
    return {"revoked": reply.revoked}


def scim_status(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListConnections(admin_pb2.ListConnectionsRequest(workspace=a.workspace), metadata=c.md)
    out = []
    for conn in reply.connections:
        b = c.portal.GetBehaviour(portal_pb2.GetBehaviourRequest(workspace_id=conn.workspace_id, portal=conn.portal),
                                  metadata=c.md)
        out.append({"portal": conn.portal, "enabled": conn.enabled, "base_url": conn.base_url,
                    "active_tokens": conn.active_tokens, "behaviour": _behaviour(b)})
    return {"connections": out}


def scim_schema(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    schema = json.loads(Path(a.file).read_text())
    c.directory.SetCustomSchema(
        admin_pb2.SetCustomSchemaRequest(workspace=a.workspace, portal=a.portal, schema_json=json.dumps(schema).encode()),
        metadata=c.md,
    )
    return {"schema": schema.get("id"), "portal": a.portal}


def users_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListUsers(admin_pb2.ListDirectoryResourcesRequest(workspace=a.workspace, portal=a.portal),
                                  metadata=c.md)
    return {"users": [{"id": u.id, "userName": u.user_name, "externalId": u.external_id, "active": u.active,
                       "version": u.version} for u in reply.users]}


def groups_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListGroups(admin_pb2.ListDirectoryResourcesRequest(workspace=a.workspace, portal=a.portal),
                                   metadata=c.md)
    return {"groups": [{"id": g.id, "displayName": g.display_name, "members": g.member_count, "version": g.version}
                       for g in reply.groups]}


def roles_map(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws_id = c.workspace_id(a.workspace)
    m = c.portal.MapRole(portal_pb2.MapRoleRequest(mapping=portal_pb2.RoleMapping(
        workspace_id=ws_id, group=a.group, role=a.role)), metadata=c.md)
    return {"group": m.group, "role": m.role}


def roles_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListRoleMappings(portal_pb2.ListRoleMappingsRequest(workspace_id=c.workspace_id(a.workspace)),
                                      metadata=c.md)
    return {"mappings": [{"group": m.group, "role": m.role} for m in reply.mappings]}


def attributes_map(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws_id = c.workspace_id(a.workspace)
    c.portal.MapAttribute(portal_pb2.MapAttributeRequest(mapping=portal_pb2.AttributeMapping(
        workspace_id=ws_id, portal=a.portal, scim_attribute=a.scim_attribute, metadata_key=a.metadata_key)),
        metadata=c.md)
    return {"portal": a.portal, "scim_attribute": a.scim_attribute, "metadata_key": a.metadata_key}


def attributes_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListAttributeMappings(portal_pb2.ListAttributeMappingsRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal), metadata=c.md)
    return {"mappings": [{"scim_attribute": m.scim_attribute, "metadata_key": m.metadata_key}
                         for m in reply.mappings]}


def policies_add(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    p = c.portal.AddPolicy(portal_pb2.AddPolicyRequest(policy=portal_pb2.Policy(
        workspace_id=c.workspace_id(a.workspace), name=a.name)), metadata=c.md)
    return {"name": p.name}


def policies_remove(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    p = c.portal.RemovePolicy(portal_pb2.RemovePolicyRequest(workspace_id=c.workspace_id(a.workspace), name=a.name),
                              metadata=c.md)
    return {"removed": p.name}


def policies_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListPolicies(portal_pb2.ListPoliciesRequest(workspace_id=c.workspace_id(a.workspace)),
                                  metadata=c.md)
    return {"policies": [p.name for p in reply.policies]}


def _device(d: portal_pb2.Device) -> dict[str, Any]:
    return {"serial": d.serial, "user": d.user_name or None, "policy": d.policy or None}


def devices_add(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    d = c.portal.AddDevice(portal_pb2.AddDeviceRequest(device=portal_pb2.Device(
        workspace_id=c.workspace_id(a.workspace), serial=a.serial, user_name=a.user or "", policy=a.policy or "")),
        metadata=c.md)
    return _device(d)


def devices_assign(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    d = c.portal.AssignDevice(portal_pb2.AssignDeviceRequest(
        workspace_id=c.workspace_id(a.workspace), serial=a.serial, user_name=a.user or ""), metadata=c.md)
    return _device(d)


def devices_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListDevices(portal_pb2.ListDevicesRequest(workspace_id=c.workspace_id(a.workspace)),
                                 metadata=c.md)
    return {"devices": [_device(d) for d in reply.devices]}


def portal_accounts(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListAccounts(portal_pb2.ListAccountsRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal, include_removed=a.all), metadata=c.md)
    return {"accounts": [
        {"userName": x.user_name, "status": x.status, "role": x.role or None,
         "metadata": json.loads(x.metadata_json or b"{}"), "groups": list(x.groups),
         "devices": [{"serial": d.serial, "policy": d.policy or None} for d in x.devices], "id": x.user_id}
        for x in reply.accounts
    ]}


def portal_groups(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListGroups(portal_pb2.ListGroupsRequest(workspace_id=c.workspace_id(a.workspace),
                                                             portal=a.portal), metadata=c.md)
    return {"groups": [{"id": g.group_id, "displayName": g.display_name, "members": list(g.member_user_names)}
                       for g in reply.groups]}


def audit(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.QueryAudit(portal_pb2.QueryAuditRequest(
        workspace_id=c.workspace_id(a.workspace), user_name=a.user or "", limit=a.limit), metadata=c.md)
    return {"entries": [
        {"at": e.at, "portal": e.portal, "userName": e.user_name, "action": e.action, "result": e.result,
         "reason": e.reason, "event_id": e.event_id, "request_id": e.request_id, "detail": e.detail}
        for e in reply.entries
    ]}


def dead_letters(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListDeadLetters(portal_pb2.ListDeadLettersRequest(), metadata=c.md)
    return {"dead_letters": [{"event_id": d.event_id, "subject": d.subject, "error": d.error,
                              "deliveries": d.deliveries, "at": d.at} for d in reply.dead_letters]}


def outbox_status(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.OutboxStatus(admin_pb2.OutboxStatusRequest(), metadata=c.md)
    return {"pending": reply.pending, "oldest_age_seconds": round(reply.oldest_age_seconds, 3)}
