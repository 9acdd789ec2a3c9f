"""Which per-call log lines are written at INFO: every failure, and the first and then every n-th success
of each kind of call (a route, an RPC method, an event type); every other success goes to DEBUG.

A JSON log line per call costs more CPU than many a call itself (docs/benchmarks.md), while the metrics
count every call and the trace (when on) sees every one. A sampled line says how many it stands for
(`sampled_every`), so a reader can scale what they count.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping

from suite_common.settings import env_int

# For the gRPC services' "rpc handled" and portal-actions' "event applied" lines; the edge's access log has
# its own knob (EDGE_ACCESS_LOG_EVERY).
ENV = "LOG_SUCCESS_EVERY"
DEFAULT_EVERY = 100


def every_setting(env: Mapping[str, str]) -> int:
    return max(env_int(env, ENV, DEFAULT_EVERY), 1)


class SuccessSampler:
    def __init__(self, every: int = DEFAULT_EVERY) -> None:
        self.every = max(every, 1)
        self._seen: dict[Hashable, int] = {}

    def level(self, kind: Hashable, *, failed: bool = False) -> int:
        if failed or self.every == 1:
            return logging.INFO
        n = self._seen.get(kind, 0)
        self._seen[kind] = n + 1
        return logging.INFO if n % self.every == 0 else logging.DEBUG

    def fields(self, *, failed: bool = False) -> dict[str, int]:
        """What a line adds to say it is a sample."""
        return {"sampled_every": self.every} if self.every > 1 and not failed else {}
