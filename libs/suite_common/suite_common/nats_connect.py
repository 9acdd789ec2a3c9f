"""Connecting to NATS so that an unreachable server is retried, not fatal.

`NATS_URL` may name one server or a cluster: `nats://a:4222,nats://b:4222,nats://c:4222`. The client
connects to any reachable one, learns the rest of the cluster from it, and reconnects to a survivor when
its server goes away; a dead entry in the list is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client

from suite_common.settings import SettingsError
from suite_common.waiting import wait_or_timeout

log = logging.getLogger(__name__)

_SCHEMES = ("nats", "tls")


def parse_servers(url: str) -> list[str]:
    """The servers of a comma-separated `NATS_URL`; a malformed entry is refused with a clear message."""
    servers = [part.strip() for part in url.split(",")]
    if not url.strip() or any(not s for s in servers):
        raise SettingsError(f"NATS_URL has an empty entry: {url!r}")
    for server in servers:
        parts = urlsplit(server)
        try:
            port = parts.port
        except ValueError as exc:
            raise SettingsError(f"NATS_URL entry {server!r} has an invalid port") from exc
        if parts.scheme not in _SCHEMES or not parts.hostname or port is None:
            raise SettingsError(
                f"NATS_URL entry {server!r} must look like nats://host:port (schemes: {', '.join(_SCHEMES)})"
            )
    if len({urlsplit(s).scheme for s in servers}) > 1:
        raise SettingsError(f"NATS_URL mixes nats:// and tls:// servers: {url!r}")
    return servers


async def connect_forever(url: str, stopping: asyncio.Event, name: str) -> Client | None:
    """Connect, retrying with backoff until connected or `stopping` is set (then None)."""
    servers = parse_servers(url)
    delay = 0.2
    while not stopping.is_set():
        try:
            return await nats.connect(
                servers,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                allow_reconnect=True,
            )
        except Exception as exc:
            log.warning("NATS not reachable, retrying", extra={"error": str(exc), "retry_in_s": delay})
        await wait_or_timeout(stopping, delay)
        delay = min(delay * 2, 5.0)
    return None
