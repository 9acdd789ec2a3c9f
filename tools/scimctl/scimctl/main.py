"""scimctl: the admin command line for workspaces, SCIM connections and the portals.

`scimctl --json ...` prints one JSON object per command, or `{"error": "..."}` with a non-zero exit
status (2 for a rejected argument or option, 1 otherwise); without `--json`, a readable listing.
The stack is found through DIRECTORY_ADDR, PORTAL_ADDR, ADMIN_TOKEN (and SECURITY_EVENTS_ADDR for
`streams`), or the `.run/stack.json` that `make run` writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

import grpc
from scim_core.kinds import PORTAL_NAMES
from scimsuite.admin.v1 import admin_pb2_grpc
from scimsuite.events_out.v1 import events_out_pb2_grpc
from scimsuite.portal.v1 import portal_pb2_grpc
from suite_common.admin_credential import admin_metadata
from suite_common.grpc_status import UNAVAILABLE_DEPENDENCY_KEY
from suite_common.settings import environ

from scimctl import commands as cmd
from scimctl import dry_run, safeguard_commands
from scimctl import portal_commands as pcmd
from scimctl import stream_commands as scmd
from scimctl.clients import Clients, NotConfigured, parse_duration
from scimctl.output import emit, fail
from scimctl.stack import locate


class _UsageError(Exception):
    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so that usage errors follow --json like every other error."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self.format_usage(), f"{self.prog}: {message}")


def _leaf(parent: Any, name: str, fn: object, help_text: str) -> argparse.ArgumentParser:
    sp: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
    sp.set_defaults(fn=fn)
    return sp


def _ws(sp: argparse.ArgumentParser, portal: bool = False) -> None:
    sp.add_argument("--workspace", "-w", required=True, help="workspace name or id")
    if portal:
        sp.add_argument("--portal", "-p", required=True, choices=PORTAL_NAMES)


def _scim(top: Any) -> None:
    s = top.add_parser("scim", help="SCIM connections").add_subparsers(dest="cmd", required=True)
    for name, fn, text in (
        ("enable", cmd.scim_enable, "enable SCIM on a portal: prints Base URL and token (shown once)"),
        ("configure", cmd.scim_configure, "change a portal's provisioning behaviour or profile"),
    ):
        sp = _leaf(s, name, fn, text)
        _ws(sp, portal=True)
        # Options are validated by the portal service, which knows which apply to which portal.
        sp.add_argument("--on-create", help="nothing | employee (store, mdm) | collaborator (dashboard)")
        sp.add_argument("--default-role", help="dashboard: admin | developer (editor) | viewer")
        sp.add_argument(
            "--on-deactivate",
            help="nothing | remove (store, dashboard); nothing | unassign-devices | change-policy | "
            "remove-user | remove-user-and-devices (mdm)",
        )
        sp.add_argument("--policy", help="mdm: the policy devices move to with --on-deactivate change-policy")
        sp.add_argument(
            "--role-settle",
            type=parse_duration,
            metavar="DURATION",
            help="dashboard: how long after first provisioning group changes still set the role (default 5m)",
        )
        sp.add_argument(
            "--profile",
            choices=["auto", "okta", "entra", "generic"],
            help="IdP compatibility profile; auto (the default) recognises the IdP from its requests",
        )
        dry_run.add_options(sp)
    _ws(_leaf(s, "disable", cmd.scim_disable, "disable SCIM: every token stops at once"), portal=True)
    sp = _leaf(s, "rotate", cmd.scim_rotate, "issue a new token; older ones stop after --overlap")
    _ws(sp, portal=True)
    sp.add_argument("--overlap", type=parse_duration, default=0, metavar="DURATION")
    _ws(_leaf(s, "revoke", cmd.scim_revoke, "revoke every token of the portal now"), portal=True)
    _ws(_leaf(s, "status", cmd.scim_status, "connections of a workspace"))
    sp = _leaf(s, "schema", cmd.scim_schema, "add or replace a custom User extension schema (RFC 7643 §7)")
    _ws(sp, portal=True)
    sp.add_argument("--file", required=True)


def _mappings(top: Any) -> None:
    r = top.add_parser("roles", help="dashboard role mapping").add_subparsers(dest="cmd", required=True)
    sp = _leaf(r, "map", pcmd.roles_map, "map a group to a role")
    _ws(sp)
    sp.add_argument("--group", required=True)
    sp.add_argument("--role", required=True, help="admin | developer (editor) | viewer | unassigned")
    _ws(_leaf(r, "list", pcmd.roles_list, "list role mappings"))

    at = top.add_parser("attributes", help="attribute mapping").add_subparsers(dest="cmd", required=True)
    sp = _leaf(at, "map", pcmd.attributes_map, "map a SCIM attribute to a metadata key")
    _ws(sp, portal=True)
    sp.add_argument("--scim-attribute", required=True)
    sp.add_argument("--metadata-key", required=True)
    _ws(_leaf(at, "list", pcmd.attributes_list, "list attribute mappings"), portal=True)


def _mdm(top: Any) -> None:
    po = top.add_parser("policies", help="MDM policies").add_subparsers(dest="cmd", required=True)
    for name, fn in (("add", pcmd.policies_add), ("remove", pcmd.policies_remove)):
        sp = _leaf(po, name, fn, f"{name} a policy")
        _ws(sp)
        sp.add_argument("--name", required=True)
    _ws(_leaf(po, "list", pcmd.policies_list, "list policies"))

    d = top.add_parser("devices", help="MDM devices").add_subparsers(dest="cmd", required=True)
    sp = _leaf(d, "add", pcmd.devices_add, "register a device (or update the user or policy given)")
    _ws(sp)
    sp.add_argument("--serial", required=True)
    sp.add_argument("--user", help="userName of the assigned user")
    sp.add_argument("--policy")
    sp = _leaf(d, "assign", pcmd.devices_assign, "assign a device to a user (no --user unassigns)")
    _ws(sp)
    sp.add_argument("--serial", required=True)
    sp.add_argument("--user", default="")
    sp = _leaf(d, "policy", pcmd.devices_set_policy, "set a device's policy (no --policy clears it)")
    _ws(sp)
    sp.add_argument("--serial", required=True)
    sp.add_argument("--policy", default="")
    sp = _leaf(d, "remove", pcmd.devices_remove, "remove a device from the registry")
    _ws(sp)
    sp.add_argument("--serial", required=True)
    _ws(_leaf(d, "list", pcmd.devices_list, "list devices"))


def _streams(top: Any) -> None:
    st = top.add_parser("streams", help="security event (SET) streams, RFC 9967").add_subparsers(
        dest="cmd", required=True
    )
    sp = _leaf(st, "create", scmd.create, "create a portal's SET stream (one per workspace and portal)")
    _ws(sp, portal=True)
    sp.add_argument("--alg", choices=["ES256", "RS256"], default="ES256", help="JWS algorithm")
    sp = _leaf(st, "list", scmd.list_streams, "list streams with their receivers and delivery figures")
    sp.add_argument("--workspace", "-w", help="only this workspace (name or id)")
    _leaf(st, "show", scmd.show, "one stream").add_argument("stream", help="stream id")
    _leaf(st, "delete", scmd.delete, "delete a stream, its receivers and pending SETs").add_argument("stream")
    sp = _leaf(
        st, "rotate-key", scmd.rotate_key, "new signing key; the old one stays in the JWKS for --overlap"
    )
    sp.add_argument("stream")
    sp.add_argument("--overlap", type=parse_duration, metavar="DURATION", help="default 7d")
    sp = _leaf(st, "sets", scmd.subject_sets, "the SETs built for one user or group, newest first")
    _ws(sp, portal=True)
    sp.add_argument("--subject", required=True, help="the SCIM resource: /Users/<id> or /Groups/<id>")
    sp.add_argument("--limit", type=int, default=0, help="at most this many (default 100, at most 500)")
    rc = st.add_parser("receivers", help="a stream's receivers").add_subparsers(dest="rcmd", required=True)
    sp = _leaf(rc, "add", scmd.receivers_add, "add a push (RFC 8935) or poll (RFC 8936) receiver")
    sp.add_argument("stream", help="stream id")
    sp.add_argument("--delivery", choices=["push", "poll"], required=True)
    sp.add_argument("--url", help="push: the receiver's https endpoint")
    sp.add_argument(
        "--authorization", help="push: Authorization header value sent with each SET (kept encrypted)"
    )
    sp.add_argument("--audience", help="the SETs' aud (default: the URL, or urn:scimsuite:receiver:<id>)")
    sp.add_argument(
        "--event",
        action="append",
        metavar="URI",
        help="an RFC 9967 event URI, repeatable (case-insensitive); default: every :full and lifecycle event",
    )
    _leaf(rc, "remove", scmd.receivers_remove, "remove a receiver").add_argument(
        "receiver", help="receiver id"
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="scimctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    top = p.add_subparsers(dest="group", required=True, parser_class=_Parser)

    w = top.add_parser("workspace", help="workspaces").add_subparsers(dest="cmd", required=True)
    sp = _leaf(w, "create", cmd.workspace_create, "create a workspace")
    sp.add_argument("name")
    sp.add_argument("--if-missing", action="store_true", help="return the existing workspace of that name")
    _leaf(w, "list", cmd.workspace_list, "list workspaces")

    _scim(top)
    for group, fn in (("users", cmd.users_list), ("groups", cmd.groups_list)):
        g = top.add_parser(group, help=f"directory {group}").add_subparsers(dest="cmd", required=True)
        _ws(_leaf(g, "list", fn, f"list the directory's {group} of a portal"), portal=True)
    _mappings(top)
    _mdm(top)
    _streams(top)

    pt = top.add_parser("portal", help="portal state").add_subparsers(dest="cmd", required=True)
    sp = _leaf(
        pt, "accounts", pcmd.portal_accounts, "a portal's accounts: role, status, metadata, groups, devices"
    )
    _ws(sp, portal=True)
    sp.add_argument("--all", action="store_true", help="include removed accounts")
    sp = _leaf(pt, "groups", pcmd.portal_groups, "a portal's groups and their members")
    _ws(sp, portal=True)
    sp.add_argument("--user", help="only the groups this userName is a member of")

    sp = _leaf(top, "audit", pcmd.audit, "actions applied to portals, newest first")
    _ws(sp)
    sp.add_argument("--user", help="only this userName")
    sp.add_argument("--limit", type=int, default=200)

    safeguard_commands.add_commands(top)
    safeguard_commands.add_dead_letters(top, pcmd.dead_letters)
    ob = top.add_parser("outbox", help="event outbox").add_subparsers(dest="cmd", required=True)
    _leaf(ob, "status", cmd.outbox_status, "events not yet published")
    return p


def _unavailable_dependency(exc: grpc.RpcError) -> str | None:
    """What an UNAVAILABLE answer blames (`database`) when the API itself answered, else None."""
    trailing: Any = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
    for key, value in trailing or ():  # grpc-stubs types metadata entries loosely
        if key == UNAVAILABLE_DEPENDENCY_KEY:
            return str(value)
    return None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        if "--json" not in argv:
            sys.stderr.write(exc.usage)
        fail(str(exc), "--json" in argv, 2)
    stack = locate(environ(), Path.cwd())
    metadata = admin_metadata(stack.admin_token)
    with (
        grpc.insecure_channel(stack.directory_addr) as dch,
        grpc.insecure_channel(stack.portal_addr) as pch,
        grpc.insecure_channel(stack.security_events_addr or "127.0.0.1:1") as sch,
    ):
        streams = events_out_pb2_grpc.SecurityEventsAdminStub(sch) if stack.security_events_addr else None
        clients = Clients(
            admin_pb2_grpc.DirectoryAdminStub(dch), portal_pb2_grpc.PortalAdminStub(pch), metadata, streams
        )
        try:
            result = args.fn(clients, args)
        except NotConfigured as exc:
            fail(str(exc), args.json, 1)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            detail = exc.details() if hasattr(exc, "details") else str(exc)
            if code == grpc.StatusCode.UNAVAILABLE and _unavailable_dependency(exc) is None:
                detail = f"cannot reach the admin API ({detail}); is `make run` running?"
            fail(str(detail), args.json, 2 if code == grpc.StatusCode.INVALID_ARGUMENT else 1)
    emit(result, args.json)


if __name__ == "__main__":
    main()
