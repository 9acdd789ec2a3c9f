"""SET delivery (issue 15): SETs per second and delivery lag from security-events to a loopback receiver.

    .venv/bin/python -m bench.set_delivery                      # 500 events/s for 20 s (the issue's target)
    .venv/bin/python -m bench.set_delivery --rate 200 --duration 5

Directory event envelopes are published straight into JetStream at a fixed rate (open loop, no
coordinated omission), one per change of a pool of users in version order, as the directory's outbox
relay publishes them; the SCIM write path is not part of this measure (it is `make bench`'s). The
security-events process consumes them, builds, signs (ES256) and stores one SET per event for one push
receiver, and pushes it. Lag = the receiver's arrival time - the publish time, both on this host's clock.
Durable PostgreSQL (fsync on), as in production. Target: 500 SET/s with p99 lag < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import time
import uuid
from pathlib import Path

import asyncpg
import grpc
import jwt
import nats
from aiohttp import web
from devstack.services import ServiceProcess, wait_grpc_serving
from devstack.stack import migrated_database
from scimsuite.events.v1 import events_pb2
from scimsuite.events_out.v1 import events_out_pb2 as pb
from scimsuite.events_out.v1 import events_out_pb2_grpc
from suite_common.embedded.processes import free_port

from bench.env import Infra, infrastructure
from bench.load import percentile

PROV = "urn:ietf:params:scim:event:prov:"
STREAM = "SCIM_EVENTS_SETBENCH"


class Receiver:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.first_token = ""
        self.expected = 0
        self.all_in = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        token = (await request.read()).decode()
        claims = jwt.decode(token, options={"verify_signature": False})
        self.arrived.setdefault(claims["txn"], time.monotonic())
        self.first_token = self.first_token or token
        if self.expected and len(self.arrived) >= self.expected:
            self.all_in.set()
        return web.Response(status=202)


def _envelope(workspace: str, user: str, version: int) -> tuple[str, bytes]:
    event_id = str(uuid.uuid4())
    state = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user,
        "userName": f"{user}@bench.local",
        "active": True,
        "title": f"v{version}",
        "meta": {"resourceType": "User", "version": f'W/"{version}"'},
    }
    env = events_pb2.EventEnvelope(
        event_id=event_id,
        event_type="UserCreated" if version == 1 else "UserUpdated",
        occurred_at="2026-12-01T00:00:00+00:00",
        workspace_id=workspace,
        connection_id=str(uuid.uuid4()),
        portal="store",
        resource_kind=events_pb2.RESOURCE_KIND_USER,
        change=events_pb2.CHANGE_KIND_CREATED if version == 1 else events_pb2.CHANGE_KIND_UPDATED,
        resource_id=user,
        resource_version=version,
        state_json=json.dumps(state).encode(),
        request_summary="POST" if version == 1 else "PATCH",
    )
    return event_id, env.SerializeToString()


async def run(infra: Infra, rate: float, duration_s: float, users: int) -> dict[str, float | int | str]:
    async with migrated_database(infra.servers, "setbench") as dsn:
        return await _run(infra.servers.nats_url, dsn, infra.workdir, rate, duration_s, users)


async def _run(
    nats_url: str, dsn: str, workdir: Path, rate: float, duration_s: float, users: int
) -> dict[str, float | int | str]:
    addr = f"127.0.0.1:{free_port()}"
    token = secrets.token_urlsafe(24)
    log = workdir / "security-events.log"
    service = ServiceProcess(
        "security-events",
        {
            "DATABASE_URL": dsn,
            "NATS_URL": nats_url,
            "ADMIN_TOKEN": token,
            "EVENTS_STREAM": STREAM,
            "EVENTS_SUBJECT_PREFIX": "setbench",
            "SECURITY_EVENTS_GRPC_LISTEN": addr,
            "SECURITY_EVENTS_KEY_SECRET": secrets.token_urlsafe(32),
            "SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS": "true",
            "LOG_LEVEL": "WARNING",
            "OTEL_SDK_DISABLED": "true",
        },
        log,
    )
    service.start()
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/events", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        if not await asyncio.to_thread(wait_grpc_serving, addr, 60):
            raise SystemExit(f"security-events did not start; see {log}")
        workspace = str(uuid.uuid4())
        md = (("x-admin-token", token),)
        async with grpc.aio.insecure_channel(addr) as ch:
            admin = events_out_pb2_grpc.SecurityEventsAdminStub(ch)
            stream = await admin.CreateStream(
                pb.CreateStreamRequest(workspace_id=workspace, portal="store"), metadata=md
            )
            await admin.AddReceiver(
                pb.AddReceiverRequest(
                    stream_id=stream.id,
                    delivery="push",
                    endpoint_url=f"http://127.0.0.1:{port}/events",
                    events=[f"{PROV}create:full", f"{PROV}patch:full"],
                ),
                metadata=md,
            )
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        from suite_common.streams import ensure_stream

        await ensure_stream(js, STREAM, ["setbench.events.>"], 3600.0)
        pool = [str(uuid.uuid4()) for _ in range(users)]
        versions = dict.fromkeys(pool, 0)
        published: dict[str, float] = {}
        published_wall: dict[str, float] = {}
        n = int(rate * duration_s)
        receiver.expected = n
        loop = asyncio.get_running_loop()
        cpu_before = _cpu_s(service.pid)
        t0 = loop.time() + 0.1
        pending: set[asyncio.Task[object]] = set()
        for k in range(n):
            delay = t0 + k / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            user = pool[k % users]
            versions[user] += 1
            event_id, data = _envelope(workspace, user, versions[user])
            published[event_id] = time.monotonic()
            published_wall[event_id] = time.time()
            task = asyncio.create_task(
                js.publish("setbench.events.store.user", data, headers={"Nats-Msg-Id": event_id})
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiver.all_in.wait(), 60)
        cpu_s = _cpu_s(service.pid) - cpu_before
        await nc.close()
        stages = await _stage_rates(dsn, published_wall)
    finally:
        await runner.cleanup()
        service.terminate()
    lags = [(receiver.arrived[e] - t) * 1000 for e, t in published.items() if e in receiver.arrived]
    first, last = min(published.values()), max(receiver.arrived.values(), default=0.0)
    header = jwt.get_unverified_header(receiver.first_token) if receiver.first_token else {}
    return {
        **stages,
        "published": n,
        "delivered": len(receiver.arrived),
        "sets_per_s": round(len(receiver.arrived) / max(last - first, 1e-9), 1),
        "lag_p50_ms": round(percentile(lags, 50), 1),
        "lag_p99_ms": round(percentile(lags, 99), 1),
        "lag_max_ms": round(max(lags, default=float("nan")), 1),
        "alg": str(header.get("alg", "")),
        # security-events alone: consume, build, sign, store, push, record (the receiver is this process)
        "service_cpu_ms_per_set": round(cpu_s * 1000 / max(len(receiver.arrived), 1), 3),
    }


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _stage_rates(dsn: str, published_wall: dict[str, float]) -> dict[str, float]:
    """Where the time went: SETs built per second (consumer) and accepted per second (push), from the rows,
    and the two halves of the lag: publish -> SET stored (consumer), stored -> accepted (push)."""
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetch(
            "SELECT txn, extract(epoch FROM created_at) AS at FROM security_events.sets"
        )
        row = await conn.fetchrow(
            """
            SELECT count(*) AS n,
                   extract(epoch FROM max(created_at) - min(created_at)) AS build_s,
                   extract(epoch FROM max(delivered_at) - min(delivered_at)) AS push_s,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at))
                       AS stored_to_accepted_p99_s,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at))
                       AS stored_to_accepted_p50_s
              FROM security_events.sets
            """
        )
    finally:
        await conn.close()
    assert row is not None
    n = int(row["n"])
    wall = published_wall
    to_stored = [(float(r["at"]) - wall[r["txn"]]) * 1000 for r in stored if r["txn"] in wall]
    return {
        "publish_to_stored_p50_ms": round(percentile(to_stored, 50), 1),
        "publish_to_stored_p99_ms": round(percentile(to_stored, 99), 1),
        "built_per_s": round(n / max(float(row["build_s"] or 0), 1e-9), 1),
        "pushed_per_s": round(n / max(float(row["push_s"] or 0), 1e-9), 1),
        "stored_to_accepted_p50_ms": round(float(row["stored_to_accepted_p50_s"] or 0) * 1000, 1),
        "stored_to_accepted_p99_ms": round(float(row["stored_to_accepted_p99_s"] or 0) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.set_delivery", description=__doc__)
    p.add_argument("--rate", type=float, default=500.0, help="directory events per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of publishing")
    p.add_argument("--users", type=int, default=500, help="distinct subjects")
    args = p.parse_args(argv)
    # The embedded servers start outside the event loop (they run their own setup loop).
    with infrastructure(durable=True) as infra:
        result = asyncio.run(run(infra, args.rate, args.duration, args.users))
    p99 = result["lag_p99_ms"]
    met = (
        result["delivered"] == result["published"]
        and isinstance(p99, float)
        and p99 < 100
        and args.rate >= 500
    )
    out = {**result, "rate": args.rate, "duration_s": args.duration, "users": args.users, "target_met": met}
    stamp = time.strftime("%Y-%m-%dT%H%M", time.gmtime())
    path = Path(__file__).parent / "results" / f"set-delivery-{stamp}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
