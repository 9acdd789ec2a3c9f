"""Provisioning through the loss of JetStream servers: a three-node cluster, the event streams at three
replicas, the Okta-shaped load running while the stream leader is killed with SIGKILL, then a follower,
each restarted in turn (the heavy run also loses two nodes at once, which takes JetStream's quorum away).

The services get the servers as one comma-separated NATS_URL whose first entry is dead.
Afterwards: 0 lost, 0 doubled, every portal action exactly once, the outbox drained, the stream holds each
event once, and the dead-letter stream is empty.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import nats.js.errors
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamInfo
from suite_common.embedded import EmbeddedServers, throwaway_servers
from suite_common.embedded.processes import free_port
from suite_common.streams import ensure_stream

from tests.ha.loadrun import provisioning_run
from tests.ha.nats_cluster import NatsCluster, NatsNode
from tests.reliability.faults import Fault
from tests.reliability.harness import FAULT_ENV, record_figures
from tests.support.stack import Stack, migrate


@dataclass
class Killer:
    """Kills nodes chosen by their role in the stream's placement at the moment the fault fires."""

    cluster: NatsCluster
    stream: str
    killed: list[str] = field(default_factory=list)
    leaders: list[str] = field(default_factory=list)
    # (killed leader, the leader the survivors elected while it was down)
    elections: list[tuple[str, str]] = field(default_factory=list)
    down: list[NatsNode] = field(default_factory=list)

    def _placement(self) -> tuple[str, list[str]]:
        return asyncio.run(self.cluster.placement(self.stream))

    def kill(self, *roles: str) -> Callable[[], None]:
        def down() -> None:
            leader, followers = self._placement()
            self.leaders.append(leader)
            names = [leader if role == "leader" else followers[0] for role in roles]
            for name in names:
                node = self.cluster.node(name)
                node.kill()
                self.down.append(node)
                self.killed.append(f"{name} ({'leader' if name == leader else 'follower'})")
            if leader in names and len(names) == 1:
                # The survivors still hold a majority: they must elect a new leader while this one is down.
                elected, _ = asyncio.run(self.cluster.placement(self.stream, down=frozenset(names)))
                self.elections.append((leader, elected))

        return down

    def restart(self) -> None:
        nodes, self.down = self.down, []
        for node in nodes:
            node.start()
        self.cluster.wait_healthy(nodes, 90)
        self._placement()  # the stream is led again and every replica has caught up


def faults(killer: Killer, *, heavy: bool) -> list[Fault]:
    plan = [
        Fault("kill -9 the stream leader", killer.kill("leader"), killer.restart, 2.0),
        Fault("kill -9 a stream follower", killer.kill("follower"), killer.restart, 2.0),
    ]
    if heavy:
        plan += [
            Fault("kill -9 the new stream leader", killer.kill("leader"), killer.restart, 2.0),
            Fault(
                "kill -9 the leader and a follower together (no quorum)",
                killer.kill("leader", "follower"),
                killer.restart,
                3.0,
            ),
        ]
    return plan


@pytest.fixture
def postgres() -> Iterator[EmbeddedServers]:
    """PostgreSQL for the suite (its single NATS goes unused: the services get the cluster)."""
    with throwaway_servers("ha-nats-pg") as servers:
        yield servers


@pytest.fixture
def cluster() -> Iterator[NatsCluster]:
    c = NatsCluster(Path(tempfile.mkdtemp(prefix="scim-ha-nats-"))).start()
    try:
        yield c
    finally:
        c.stop()


async def _stream_info(js: JetStreamContext, name: str, within_s: float = 60.0) -> StreamInfo:
    """A stream's info once the cluster answers for it: right after the faults, a stream whose leader was
    killed may still be electing one, and the API request times out or is refused meanwhile."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        try:
            return await js.stream_info(name)
        except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def nats_cluster_run(
    name: str, postgres: EmbeddedServers, cluster: NatsCluster, *, replicas: int, writes: int, heavy: bool
) -> None:
    dsn = await postgres.create_database("ha_nats")
    await migrate(dsn)
    # The first server in the list never answers: the services must skip it, as they would a dead node.
    dead_entry = f"nats://127.0.0.1:{free_port()}"
    stack = Stack(
        dsn,
        f"{dead_entry},{cluster.url}",
        replicas=replicas,
        extra_env={**FAULT_ENV, "EVENTS_STREAM_REPLICAS": "3"},
    ).start()
    try:
        killer = Killer(cluster, stack.stream)
        outcome = await provisioning_run(
            stack, faults(killer, heavy=heavy), writes=writes, workers=6, verify_dsn=dsn
        )
        nc = await cluster.connect()
        try:
            js = nc.jetstream()
            events = await _stream_info(js, stack.stream)
            dead = await _stream_info(js, f"{stack.stream}_DEADLETTERS")
        finally:
            await nc.close()
        leader_after = events.cluster.leader if events.cluster else None
        figures = {
            **outcome.figures,
            "nats_nodes": len(cluster.nodes),
            "stream_replicas": events.config.num_replicas,
            "dead_letter_stream_replicas": dead.config.num_replicas,
            "killed": killer.killed,
            "stream_leaders_seen": [*killer.leaders, leader_after],
            "elections_while_leader_down": killer.elections,
            "stream_messages": events.state.messages,
            "dead_letter_stream_messages": dead.state.messages,
        }
        record_figures(name, figures)
        outcome.assert_clean()
        assert events.config.num_replicas == 3 and dead.config.num_replicas == 3
        assert events.state.messages == outcome.portal.figures["events"], "stream misses or repeats an event"
        assert dead.state.messages == 0, "events were dead-lettered"
        assert killer.elections and all(old != new for old, new in killer.elections), killer.elections
        assert events.cluster is not None and len(events.cluster.replicas or []) == 2
        assert all(r.current for r in events.cluster.replicas or []), "a replica did not catch up"
    finally:
        stack.stop()


@pytest.mark.timeout(300)
async def test_short_load_survives_stream_leader_and_follower_killed(
    postgres: EmbeddedServers, cluster: NatsCluster
) -> None:
    writes = int(os.environ.get("HA_NATS_WRITES", "200"))
    await nats_cluster_run("ha-nats-short", postgres, cluster, replicas=1, writes=writes, heavy=False)


@pytest.mark.heavy
@pytest.mark.timeout(900)
async def test_heavy_load_survives_leader_follower_and_quorum_loss(
    postgres: EmbeddedServers, cluster: NatsCluster
) -> None:
    writes = int(os.environ.get("HA_NATS_WRITES_HEAVY", "1500"))
    await nats_cluster_run("ha-nats-heavy", postgres, cluster, replicas=2, writes=writes, heavy=True)


async def test_an_existing_stream_is_brought_to_the_configured_replica_count(cluster: NatsCluster) -> None:
    """A deployment moving from one replica to three (EVENTS_STREAM_REPLICAS) keeps its stream and data."""
    nc = await cluster.connect()
    try:
        js = nc.jetstream()
        await ensure_stream(js, "HA_UPGRADE", ["ha.upgrade.>"], 60.0, replicas=1)
        for i in range(10):
            # A stream just created on a fresh three-node cluster may take longer than the client's default
            # 1 s to acknowledge its first publish (seen once in a full run); this test is about the replica
            # upgrade, not publish latency.
            await js.publish("ha.upgrade.x", b"event", headers={"Nats-Msg-Id": str(i)}, timeout=10.0)
        await ensure_stream(js, "HA_UPGRADE", ["ha.upgrade.>"], 60.0, replicas=3)
        info = await js.stream_info("HA_UPGRADE")
        assert info.config.num_replicas == 3
        assert info.state.messages == 10
        leader, followers = await cluster.placement("HA_UPGRADE")
        assert len({leader, *followers}) == 3, "every server holds a copy once the followers caught up"
    finally:
        await nc.close()
