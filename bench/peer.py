"""Starting scim2-server (bench/peer_app.py) under uvicorn with one worker, on a loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from suite_common.embedded.processes import free_port, wait_for_port

from bench.dataset import Dataset

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Peer:
    process: subprocess.Popen[bytes]
    url: str
    load_s: float
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_peer(ds: Dataset, log: Path, timeout_s: float = 600.0) -> Peer:
    """Start uvicorn; it opens its port only after the app module (and so the dataset) has loaded."""
    port = free_port()
    env = {
        **os.environ,
        "BENCH_PEER_USERS": str(ds.users),
        "BENCH_PEER_GROUPS": ",".join(str(s) for s in ds.group_sizes),
    }
    # uvloop + httptools: the fastest uvicorn setup, so the peer is not handicapped by its server.
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.peer_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    started = time.perf_counter()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    peer = Peer(process, f"http://127.0.0.1:{port}", 0.0, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scim2-server exited with {process.returncode}; see {log}")
        if wait_for_port(port, 1.0):
            peer.load_s = time.perf_counter() - started
            return peer
    peer.stop()
    raise RuntimeError(f"scim2-server did not open its port in {timeout_s}s; see {log}")
