"""Directory commands (workspaces, SCIM connections, directory users and groups).

Each takes the admin clients and parsed arguments and returns one JSON-able dict.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from scimsuite.admin.v1 import admin_pb2
from scimsuite.portal.v1 import portal_pb2

from scimctl import dry_run
from scimctl.clients import Clients


def behaviour_dict(b: portal_pb2.Behaviour) -> dict[str, Any]:
    out: dict[str, Any] = {"on_create": b.on_create, "on_deactivate": b.on_deactivate}
    if b.portal == "dashboard":
        out["default_role"] = b.default_role
        out["role_settle_seconds"] = b.role_settle_seconds
    if b.deactivate_policy:
        out["policy"] = b.deactivate_policy
    return out


def workspace_create(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws = c.directory.CreateWorkspace(
        admin_pb2.CreateWorkspaceRequest(name=a.name, if_missing=a.if_missing), metadata=c.md
    )
    return {"id": ws.id, "name": ws.name, "created_at": ws.created_at}


def workspace_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListWorkspaces(admin_pb2.ListWorkspacesRequest(), metadata=c.md)
    return {
        "workspaces": [{"id": w.id, "name": w.name, "created_at": w.created_at} for w in reply.workspaces]
    }


_BEHAVIOUR_ARGS = ("on_create", "on_deactivate", "default_role", "policy", "role_settle")


def _set_behaviour_if_asked(c: Clients, a: argparse.Namespace, ws_id: str) -> portal_pb2.Behaviour:
    """Options not given keep their current value; the server validates the result as a whole."""
    current = c.portal.GetBehaviour(
        portal_pb2.GetBehaviourRequest(workspace_id=ws_id, portal=a.portal), metadata=c.md
    )
    if all(getattr(a, k, None) is None for k in _BEHAVIOUR_ARGS):
        return current

    def pick(given: Any, kept: Any) -> Any:
        return kept if given is None else given

    wanted = portal_pb2.Behaviour(
        workspace_id=ws_id,
        portal=a.portal,
        on_create=pick(a.on_create, current.on_create),
        on_deactivate=pick(a.on_deactivate, current.on_deactivate),
        default_role=pick(a.default_role, current.default_role),
        deactivate_policy=pick(a.policy, current.deactivate_policy),
        role_settle_seconds=pick(a.role_settle, current.role_settle_seconds),
    )
    return c.portal.SetBehaviour(portal_pb2.SetBehaviourRequest(behaviour=wanted), metadata=c.md)


def scim_enable(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws_id = c.workspace_id(a.workspace)
    # The behaviour and dry run are validated and stored first, so a bad option enables nothing, and the
    # first event of a dry-run connection is already rehearsed.
    behaviour = _set_behaviour_if_asked(c, a, ws_id)
    mode = dry_run.apply(c, a, ws_id)
    creds = c.directory.EnableScim(
        admin_pb2.EnableScimRequest(workspace=ws_id, portal=a.portal, profile=a.profile or ""), metadata=c.md
    )
    return {
        "base_url": creds.base_url,
        "token": creds.token,
        "workspace_id": ws_id,
        "portal": a.portal,
        "connection_id": creds.connection.id,
        "behaviour": behaviour_dict(behaviour),
        "dry_run": mode,
        **profile_dict(creds.connection),
    }


def profile_dict(conn: admin_pb2.Connection) -> dict[str, Any]:
    """The connection's compatibility profile and the IdP last recognised in its requests (or null)."""
    return {"profile": conn.profile, "detected_idp": conn.detected_idp or None}


def scim_configure(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    ws_id = c.workspace_id(a.workspace)
    behaviour = _set_behaviour_if_asked(c, a, ws_id)
    mode = dry_run.apply(c, a, ws_id)
    out = {
        "workspace_id": ws_id,
        "portal": a.portal,
        "behaviour": behaviour_dict(behaviour),
        "dry_run": mode,
    }
    if a.profile is not None:
        conn = c.directory.SetScimProfile(
            admin_pb2.SetScimProfileRequest(workspace=ws_id, portal=a.portal, profile=a.profile),
            metadata=c.md,
        )
        out.update(profile_dict(conn))
    return out


def scim_disable(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    conn = c.directory.DisableScim(
        admin_pb2.DisableScimRequest(workspace=a.workspace, portal=a.portal), metadata=c.md
    )
    return {"connection_id": conn.id, "portal": conn.portal, "enabled": conn.enabled}


def scim_rotate(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    creds = c.directory.RotateToken(
        admin_pb2.RotateTokenRequest(workspace=a.workspace, portal=a.portal, overlap_seconds=a.overlap),
        metadata=c.md,
    )
    return {"base_url": creds.base_url, "token": creds.token, "overlap_seconds": a.overlap}


def scim_revoke(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.RevokeTokens(
        admin_pb2.RevokeTokensRequest(workspace=a.workspace, portal=a.portal), metadata=c.md
    )
    return {"revoked": reply.revoked}


def scim_status(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListConnections(
        admin_pb2.ListConnectionsRequest(workspace=a.workspace), metadata=c.md
    )
    out = []
    for conn in reply.connections:
        b = c.portal.GetBehaviour(
            portal_pb2.GetBehaviourRequest(workspace_id=conn.workspace_id, portal=conn.portal), metadata=c.md
        )
        out.append(
            {
                "portal": conn.portal,
                "enabled": conn.enabled,
                "base_url": conn.base_url,
                "active_tokens": conn.active_tokens,
                "behaviour": behaviour_dict(b),
                **profile_dict(conn),
            }
        )
    return {"connections": out}


def scim_schema(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    schema = json.loads(Path(a.file).read_text())
    c.directory.SetCustomSchema(
        admin_pb2.SetCustomSchemaRequest(
            workspace=a.workspace, portal=a.portal, schema_json=json.dumps(schema).encode()
        ),
        metadata=c.md,
    )
    return {"schema": schema.get("id"), "portal": a.portal}


def users_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListUsers(
        admin_pb2.ListDirectoryResourcesRequest(workspace=a.workspace, portal=a.portal), metadata=c.md
    )
    return {
        "users": [
            {
                "id": u.id,
                "userName": u.user_name,
                "externalId": u.external_id,
                "active": u.active,
                "version": u.version,
            }
            for u in reply.users
        ]
    }


def groups_list(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.ListGroups(
        admin_pb2.ListDirectoryResourcesRequest(workspace=a.workspace, portal=a.portal), metadata=c.md
    )
    return {
        "groups": [
            {"id": g.id, "displayName": g.display_name, "members": g.member_count, "version": g.version}
            for g in reply.groups
        ]
    }


def outbox_status(c: Clients, a: argparse.Namespace) -> dict[str, Any]:
    reply = c.directory.OutboxStatus(admin_pb2.OutboxStatusRequest(), metadata=c.md)
    return {"pending": reply.pending, "oldest_age_seconds": round(reply.oldest_age_seconds, 3)}
