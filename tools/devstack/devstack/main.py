"""`make run`: the whole suite on one machine, with embedded PostgreSQL and NATS unless URLs are given.

State lives in `.run/` (database cluster, JetStream store, admin token, demo tokens, logs), so a second
run reuses it. A run after a crash stops the orphans a killed supervisor left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from scim_core.kinds import PORTAL_NAMES
from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from scimsuite.portal.v1 import portal_pb2, portal_pb2_grpc
from suite_common.admin_credential import admin_metadata
from suite_common.embedded import EmbeddedServers
from suite_common.embedded.processes import cmdline, free_port, is_alive, port_is_free, stop_pid

from devstack.services import ServiceProcess, wait_grpc_serving, wait_http_port
from devstack.stack import migrate

ROOT = Path(__file__).resolve().parents[3]
STATE = ROOT / ".run"
DEMO_WORKSPACE = "demo"


def _port(preferred: int) -> int:
    return preferred if port_is_free(preferred) else free_port()


def _admin_token() -> str:
    path = STATE / "admin_token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _secret(name: str) -> str:
    """A local secret kept in `.run/` (mode 0600), made on first use."""
    path = STATE / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _stop_orphans() -> None:
    pids_file = STATE / "pids.json"
    if not pids_file.exists():
        return
    for pid in json.loads(pids_file.read_text()).values():
        if is_alive(pid) and any(
            m in cmdline(pid)
            for m in ("scim_edge", "directory.main", "portal_actions", "admin_console", "security_events")
        ):
            print(f"stopping orphan service process {pid}")
            stop_pid(pid)
    pids_file.unlink()


def _demo_credentials(directory_addr: str, portal_addr: str, token: str) -> list[dict[str, Any]]:
    """Enable SCIM on the demo workspace's portals once; later runs show the same tokens."""
    saved_path = STATE / "demo_tokens.json"
    saved: dict[str, Any] = json.loads(saved_path.read_text()) if saved_path.exists() else {}
    md = admin_metadata(token)
    with grpc.insecure_channel(directory_addr) as dch, grpc.insecure_channel(portal_addr) as pch:
        admin = admin_pb2_grpc.DirectoryAdminStub(dch)
        portal = portal_pb2_grpc.PortalAdminStub(pch)
        ws = admin.CreateWorkspace(
            admin_pb2.CreateWorkspaceRequest(name=DEMO_WORKSPACE, if_missing=True), metadata=md
        )
        if saved.get("workspace_id") != ws.id:
            saved = {"workspace_id": ws.id, "portals": {}}
        connections = {
            c.portal: c
            for c in admin.ListConnections(
                admin_pb2.ListConnectionsRequest(workspace=ws.id), metadata=md
            ).connections
        }
        out = []
        for portal_name in PORTAL_NAMES:
            known = saved["portals"].get(portal_name)
            conn = connections.get(portal_name)
            if not known or conn is None or not conn.enabled or conn.active_tokens == 0:
                b = portal.GetBehaviour(
                    portal_pb2.GetBehaviourRequest(workspace_id=ws.id, portal=portal_name), metadata=md
                )
                portal.SetBehaviour(portal_pb2.SetBehaviourRequest(behaviour=b), metadata=md)
                creds = admin.EnableScim(
                    admin_pb2.EnableScimRequest(workspace=ws.id, portal=portal_name), metadata=md
                )
                known = {"base_url": creds.base_url, "token": creds.token}
                saved["portals"][portal_name] = known
            out.append({"portal": portal_name, **known})
    saved_path.write_text(json.dumps(saved, indent=2))
    saved_path.chmod(0o600)
    return out


def main() -> None:
    STATE.mkdir(exist_ok=True)
    _stop_orphans()
    env_db = os.environ.get("DATABASE_URL", "")
    servers = EmbeddedServers(
        STATE,
        durable=True,
        pg_port=55432,
        nats_port=14222,
        admin_dsn=env_db,
        nats_url=os.environ.get("NATS_URL", ""),
        throwaway=False,
    )
    with servers:  # stopped however the services end, also when a migration fails
        _serve(servers, env_db or asyncio.run(servers.ensure_database("scim")))
    print("stopped.")


def _serve(servers: EmbeddedServers, database_url: str) -> None:
    if servers.pg is not None:
        print(f"PostgreSQL  {database_url}  (data in {servers.pg.data_dir})")
    if servers.nats is not None:
        print(f"NATS        {servers.nats_url}  (JetStream store in {servers.nats.state_dir})")
    nats_url = servers.nats_url
    asyncio.run(migrate(database_url))

    token = _admin_token()
    edge_port = _port(int(os.environ.get("EDGE_PORT", "8080")))
    console_port = _port(int(os.environ.get("CONSOLE_PORT", "8090")))
    directory_addr = f"127.0.0.1:{_port(50051)}"
    portal_addr = f"127.0.0.1:{_port(50052)}"
    security_events_addr = f"127.0.0.1:{_port(50053)}"
    public = os.environ.get("SCIM_PUBLIC_BASE_URL", f"http://127.0.0.1:{edge_port}")
    common = {
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "ADMIN_TOKEN": token,
        "PYTHONUNBUFFERED": "1",
    }
    logs = STATE / "logs"
    logs.mkdir(exist_ok=True)
    services = [
        ServiceProcess(
            "directory",
            {**common, "DIRECTORY_GRPC_LISTEN": directory_addr, "SCIM_PUBLIC_BASE_URL": public},
            logs / "directory.log",
        ),
        ServiceProcess(
            "portal-actions", {**common, "PORTAL_GRPC_LISTEN": portal_addr}, logs / "portal-actions.log"
        ),
        ServiceProcess(
            "security-events",
            {
                **common,
                "SECURITY_EVENTS_GRPC_LISTEN": security_events_addr,
                "SCIM_PUBLIC_BASE_URL": public,
                "SECURITY_EVENTS_KEY_SECRET": _secret("security_events_key_secret"),
                # Dev mode: receivers on http://127.0.0.1 are allowed; production requires https.
                "SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS": "true",
            },
            logs / "security-events.log",
        ),
        ServiceProcess(
            "scim-edge",
            {
                "EDGE_PORT": str(edge_port),
                "EDGE_HOST": os.environ.get("EDGE_HOST", "127.0.0.1"),
                "DIRECTORY_ADDR": directory_addr,
                "SECURITY_EVENTS_ADDR": security_events_addr,
                "PYTHONUNBUFFERED": "1",
            },
            logs / "scim-edge.log",
        ),
        ServiceProcess(
            "admin-console",
            {
                "CONSOLE_PORT": str(console_port),
                "DIRECTORY_ADMIN_ADDR": directory_addr,
                "PORTAL_ADDR": portal_addr,
                "SECURITY_EVENTS_ADMIN_ADDR": security_events_addr,
                "ADMIN_TOKEN": token,
                "CONSOLE_SESSION_SECRET": _secret("console_session_secret"),
                "PYTHONUNBUFFERED": "1",
            },
            logs / "admin-console.log",
        ),
    ]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        for svc in services:
            svc.start()
        (STATE / "pids.json").write_text(json.dumps({s.name: s.pid for s in services}))
        (STATE / "stack.json").write_text(
            json.dumps(
                {
                    "directory_addr": directory_addr,
                    "portal_addr": portal_addr,
                    "security_events_addr": security_events_addr,
                    "admin_token": token,
                    "edge_url": f"http://127.0.0.1:{edge_port}",
                    "console_url": f"http://127.0.0.1:{console_port}",
                }
            )
        )
        (STATE / "stack.json").chmod(0o600)
        ok = (
            wait_grpc_serving(directory_addr, 30)
            and wait_grpc_serving(portal_addr, 30)
            and wait_grpc_serving(security_events_addr, 30)
            and wait_http_port(edge_port, 30)
            and wait_http_port(console_port, 30)
        )
        if not ok:
            print(f"services did not become ready; see {logs}", file=sys.stderr)
            return
        creds = _demo_credentials(directory_addr, portal_addr, token)
        print(f"\nSCIM suite running. Edge: http://127.0.0.1:{edge_port}   logs: {logs}\n")
        print(f"Demo workspace '{DEMO_WORKSPACE}': paste these into Okta (Provisioning > Integration):\n")
        for c in creds:
            print(f"  {c['portal']:<10} Base URL: {c['base_url']}")
            print(f"  {'':<10} Token:    {c['token']}\n")
        print(f"Admin console: http://127.0.0.1:{console_port}")
        print(f"  sign in with the admin token: {token}")
        print(f"  (it is also in {STATE / 'admin_token'})\n")
        print("Admin CLI: .venv/bin/scimctl --help      Stop: Ctrl-C")
        while not stopping:
            for svc in services:
                if not svc.alive() and not stopping:
                    print(f"{svc.name} exited ({svc.process.returncode if svc.process else '?'}); restarting")
                    svc.start()
                    (STATE / "pids.json").write_text(json.dumps({s.name: s.pid for s in services}))
            time.sleep(0.5)
    finally:
        print("\nstopping…")
        for svc in reversed(services):
            with contextlib.suppress(Exception):
                svc.terminate()
        (STATE / "pids.json").unlink(missing_ok=True)
        (STATE / "stack.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
