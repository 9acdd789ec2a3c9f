"""LISTEN for committed SETs (the trigger in 0001_initial.sql) and call back, reconnecting as needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

log = logging.getLogger(__name__)
CHANNEL = "security_events_sets"


class SetsListener:
    def __init__(self, dsn: str, on_new_sets: Callable[[], None]) -> None:
        self.dsn = dsn
        self.on_new_sets = on_new_sets
        self._stopping = asyncio.Event()

    async def shutdown(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn)
                await conn.add_listener(CHANNEL, lambda *_: self.on_new_sets())
                self.on_new_sets()  # anything committed while not listening
                while not self._stopping.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), 1.0)
            except Exception as exc:
                # Deliverers and polls fall back to their own timers meanwhile.
                log.warning("LISTEN failed; retrying", extra={"error": str(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 1.0)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
