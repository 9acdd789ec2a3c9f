"""Ports for the servers the tests and `make run` start: free, below the kernel's ephemeral range (where no
other process's `bind(0)` or outgoing connection can take them first), and never handed out twice."""

from __future__ import annotations

import socket
from pathlib import Path

from suite_common.embedded.processes import free_port


def test_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(10_000 <= p < start for p in ports), [p for p in ports if not 10_000 <= p < start]
    for port in ports[:20]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # nothing holds it
