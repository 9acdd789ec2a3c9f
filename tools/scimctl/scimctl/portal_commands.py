"""Portal commands: role and attribute mapping, MDM policies and devices, accounts, groups and the audit.

Each takes the admin clients and parsed arguments and returns one JSON-able dict.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from scimsuite.portal.v1 import portal_pb2

from scimctl.clients import Clients


def roles_map(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    mapping = portal_pb2.RoleMapping(workspace_id=c.workspace_id(a.workspace), group=a.group, role=a.role)
    m = c.portal.MapRole(portal_pb2.MapRoleRequest(mapping=mapping), metadata=c.md)
    return {"group": m.group, "role": m.role}


def roles_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListRoleMappings(
        portal_pb2.ListRoleMappingsRequest(workspace_id=c.workspace_id(a.workspace)), metadata=c.md
    )
    return {"mappings": [{"group": m.group, "role": m.role} for m in reply.mappings]}


def attributes_map(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    mapping = portal_pb2.AttributeMapping(
        workspace_id=c.workspace_id(a.workspace),
        portal=a.portal,
        scim_attribute=a.scim_attribute,
        metadata_key=a.metadata_key,
    )
    m = c.portal.MapAttribute(portal_pb2.MapAttributeRequest(mapping=mapping), metadata=c.md)
    return {"portal": m.portal, "scim_attribute": m.scim_attribute, "metadata_key": m.metadata_key}


def attributes_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListAttributeMappings(
        portal_pb2.ListAttributeMappingsRequest(workspace_id=c.workspace_id(a.workspace), portal=a.portal),
        metadata=c.md,
    )
    return {
        "mappings": [
            {"scim_attribute": m.scim_attribute, "metadata_key": m.metadata_key} for m in reply.mappings
        ]
    }


def policies_add(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    policy = portal_pb2.Policy(workspace_id=c.workspace_id(a.workspace), name=a.name)
    p = c.portal.AddPolicy(portal_pb2.AddPolicyRequest(policy=policy), metadata=c.md)
    return {"name": p.name}


def policies_remove(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    p = c.portal.RemovePolicy(
        portal_pb2.RemovePolicyRequest(workspace_id=c.workspace_id(a.workspace), name=a.name), metadata=c.md
    )
    return {"removed": p.name}


def policies_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListPolicies(
        portal_pb2.ListPoliciesRequest(workspace_id=c.workspace_id(a.workspace)), metadata=c.md
    )
    return {"policies": [p.name for p in reply.policies]}


def _device(d: portal_pb2.Device) -> dict[str, Any]:
    return {"serial": d.serial, "user": d.user_name or None, "policy": d.policy or None}


def devices_add(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    device = portal_pb2.Device(
        workspace_id=c.workspace_id(a.workspace),
        serial=a.serial,
        user_name=a.user or "",
        policy=a.policy or "",
    )
    return _device(c.portal.AddDevice(portal_pb2.AddDeviceRequest(device=device), metadata=c.md))


def devices_assign(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = portal_pb2.AssignDeviceRequest(
        workspace_id=c.workspace_id(a.workspace), serial=a.serial, user_name=a.user or ""
    )
    return _device(c.portal.AssignDevice(request, metadata=c.md))


def devices_set_policy(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = portal_pb2.SetDevicePolicyRequest(
        workspace_id=c.workspace_id(a.workspace), serial=a.serial, policy=a.policy or ""
    )
    return _device(c.portal.SetDevicePolicy(request, metadata=c.md))


def devices_remove(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = portal_pb2.RemoveDeviceRequest(workspace_id=c.workspace_id(a.workspace), serial=a.serial)
    return {"removed": c.portal.RemoveDevice(request, metadata=c.md).serial}


def devices_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListDevices(
        portal_pb2.ListDevicesRequest(workspace_id=c.workspace_id(a.workspace)), metadata=c.md
    )
    return {"devices": [_device(d) for d in reply.devices]}


def portal_accounts(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListAccounts(
        portal_pb2.ListAccountsRequest(
            workspace_id=c.workspace_id(a.workspace), portal=a.portal, include_removed=a.all
        ),
        metadata=c.md,
    )
    return {
        "accounts": [
            {
                "userName": x.user_name,
                "status": x.status,
                "role": x.role or None,
                "metadata": json.loads(x.metadata_json or b"{}"),
                "groups": list(x.groups),
                "devices": [{"serial": d.serial, "policy": d.policy or None} for d in x.devices],
                "id": x.user_id,
            }
            for x in reply.accounts
        ]
    }


def portal_groups(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    request = portal_pb2.ListGroupsRequest(
        workspace_id=c.workspace_id(a.workspace), portal=a.portal, member_user_name=a.user or ""
    )
    reply = c.portal.ListGroups(request, metadata=c.md)
    return {
        "groups": [
            {"id": g.group_id, "displayName": g.display_name, "members": list(g.member_user_names)}
            for g in reply.groups
        ]
    }


def audit(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.QueryAudit(
        portal_pb2.QueryAuditRequest(
            workspace_id=c.workspace_id(a.workspace), user_name=a.user or "", limit=a.limit
        ),
        metadata=c.md,
    )
    return {
        "entries": [
            {
                "at": e.at,
                "portal": e.portal,
                "userName": e.user_name,
                "group": e.group_name or None,
                "action": e.action,
                "result": e.result,
                "reason": e.reason,
                "event_id": e.event_id,
                "request_id": e.request_id,
                "detail": e.detail,
            }
            for e in reply.entries
        ]
    }


def dead_letters(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.portal.ListDeadLetters(portal_pb2.ListDeadLettersRequest(), metadata=c.md)
    return {
        "dead_letters": [
            {
                "event_id": d.event_id,
                "subject": d.subject,
                "error": d.error,
                "deliveries": d.deliveries,
                "at": d.at,
            }
            for d in reply.dead_letters
        ]
    }
