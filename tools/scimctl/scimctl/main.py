"""scimctl: the admin command line for workspaces, SCIM connections and the portals.

`scimctl --json ...` prints one JSON object per command; without it, a readable listing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import grpc
from scimsuite.admin.v1 import admin_pb2_grpc
from scimsuite.portal.v1 import portal_pb2_grpc
from suite_common.settings import environ

from scimctl import commands as cmd
from scimctl.output import emit, fail
from scimctl.stack import locate

PORTALS = ["dashboard", "store", "mdm"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scimctl", description=__doc__)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    top = p.add_subparsers(dest="group", required=True)

    def leaf(parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, fn: object,
             help_text: str) -> argparse.ArgumentParser:
        sp = parent.add_parser(name, help=help_text)
        sp.set_defaults(fn=fn)
        return sp

    def ws(sp: argparse.ArgumentParser, portal: bool = False) -> None:
        sp.add_argument("--workspace", "-w", required=True, help="workspace name or id")
        if portal:
            sp.add_argument("--portal", "-p", required=True, choices=PORTALS)

    w = top.add_parser("workspace", help="workspaces").add_subparsers(dest="cmd", required=True)
    sp = leaf(w, "create", cmd.workspace_create, "create a workspace")
    sp.add_argument("name")
    sp.add_argument("--if-missing", action="store_true", help="return the existing workspace of that name")
    leaf(w, "list", cmd.workspace_list, "list workspaces")

    s = top.add_parser("scim", help="SCIM connections").add_subparsers(dest="cmd", required=True)
    for name, fn, text in (("enable", cmd.scim_enable, "enable SCIM on a portal: prints Base URL and token"),
                           ("configure", cmd.scim_configure, "change a portal's provisioning behaviour")):
        sp = leaf(s, name, fn, text)
        ws(sp, portal=True)
        sp.add_argument("--on-create", choices=["nothing", "employee", "collaborator"])
        sp.add_argument("--default-role", choices=["admin", "developer", "editor", "viewer"])
        sp.add_argument("--on-deactivate", choices=["nothing", "remove", "unassign-devices", "change-policy",
                                                    "remove-user", "remove-user-and-devices"])
        sp.add_argument("--policy", help="MDM policy for --on-deactivate change-policy")
        sp.add_argument("--role-settle", type=cmd.parse_duration, metavar="DURATION",
                        help="dashboard: how long group pushes after first provisioning may still raise the role")
    sp = leaf(s, "disable", cmd.scim_disable, "disable SCIM: every token stops at once")
    ws(sp, portal=True)
    sp = leaf(s, "rotate", cmd.scim_rotate, "issue a new token; older ones stop after --overlap")
    ws(sp, portal=True)
    sp.add_argument("--overlap", type=cmd.parse_duration, default=0, metavar="DURATION")
    sp = leaf(s, "revoke", cmd.scim_revoke, "revoke every token of the portal now")
    ws(sp, portal=True)
    sp = leaf(s, "status", cmd.scim_status, "connections of a workspace")
    ws(sp)
    sp = leaf(s, "schema", cmd.scim_schema, "add or replace a custom User extension schema (RFC 7643 §7 JSON)")
    ws(sp, portal=True)
    sp.add_argument("--file", required=True)

    for group, fn in (("users", cmd.users_list), ("groups", cmd.groups_list)):
        g = top.add_parser(group, help=f"directory {group}").add_subparsers(dest="cmd", required=True)
        ws(leaf(g, "list", fn, f"list the directory's {group} of a portal"), portal=True)

    r = top.add_parser("roles", help="dashboard role mapping").add_subparsers(dest="cmd", required=True)
    sp = leaf(r, "map", cmd.roles_map, "map a group to a role")
    ws(sp)
    sp.add_argument("--group", required=True)
    sp.add_argument("--role", required=True)
    ws(leaf(r, "list", cmd.roles_list, "list role mappings"))

    at = top.add_parser("attributes", help="attribute mapping").add_subparsers(dest="cmd", required=True)
    sp = leaf(at, "map", cmd.attributes_map, "map a SCIM attribute to a metadata key")
    ws(sp, portal=True)
    sp.add_argument("--scim-attribute", required=True)
    sp.add_argument("--metadata-key", required=True)
    ws(leaf(at, "list", cmd.attributes_list, "list attribute mappings"), portal=True)

    po = top.add_parser("policies", help="MDM policies").add_subparsers(dest="cmd", required=True)
    for name, fn in (("add", cmd.policies_add), ("remove", cmd.policies_remove)):
        sp = leaf(po, name, fn, f"{name} a policy")
        ws(sp)
        sp.add_argument("--name", required=True)
    ws(leaf(po, "list", cmd.policies_list, "list policies"))

    d = top.add_parser("devices", help="MDM devices").add_subparsers(dest="cmd", required=True)
    sp = leaf(d, "add", cmd.devices_add, "register a device")
    ws(sp)
    sp.add_argument("--serial", required=True)
    sp.add_argument("--user", help="userName of the assigned user")
    sp.add_argument("--policy")
    sp = leaf(d, "assign", cmd.devices_assign, "assign a device to a user (empty --user unassigns)")
    ws(sp)
    sp.add_argument("--serial", required=True)
    sp.add_argument("--user", default="")
    ws(leaf(d, "list", cmd.devices_list, "list devices"))

    pt = top.add_parser("portal", help="portal state").add_subparsers(dest="cmd", required=True)
    sp = leaf(pt, "accounts", cmd.portal_accounts, "a portal's accounts with role, metadata, groups and devices")
    ws(sp, portal=True)
    sp.add_argument("--all", action="store_true", help="include removed accounts")
    ws(leaf(pt, "groups", cmd.portal_groups, "a portal's groups and their members"), portal=True)

    sp = leaf(top, "audit", cmd.audit, "actions applied to portals")
    ws(sp)
    sp.add_argument("--user", help="only this userName")
    sp.add_argument("--limit", type=int, default=200)

    leaf(top, "dead-letters", cmd.dead_letters, "events that could not be applied")
    ob = top.add_parser("outbox", help="event outbox").add_subparsers(dest="cmd", required=True)
    leaf(ob, "status", cmd.outbox_status, "events not yet published")
    return p


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    stack = locate(environ(), Path.cwd())
    metadata = (("x-admin-token", stack.admin_token),)
    with grpc.insecure_channel(stack.directory_addr) as dch, grpc.insecure_channel(stack.portal_addr) as pch:
        clients = cmd.Clients(admin_pb2_grpc.DirectoryAdminStub(dch), portal_pb2_grpc.PortalAdminStub(pch), metadata)
        try:
            result = args.fn(clients, args)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            detail = exc.details() if hasattr(exc, "details") else str(exc)
            if code == grpc.StatusCode.UNAVAILABLE:
                detail = f"cannot reach the admin API ({detail}); is `make run` running?"
            fail(str(detail), args.json, 2 if code == grpc.StatusCode.INVALID_ARGUMENT else 1)
            return
    emit(result, args.json)


if __name__ == "__main__":
    main()
