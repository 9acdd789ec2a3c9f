"""Holding a PostgreSQL LISTEN connection for as long as a service runs, reconnecting when it drops.

The directory's credentials cache and outbox relay both wake on NOTIFY (migrations 0004): a commit that
changes a credential or writes an outbox row is seen by every replica within milliseconds. The LISTEN
connection is a plain connection outside the pool, because a pooled one would be handed to other work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from suite_common.pg import connect_primary
from suite_common.waiting import wait_or_timeout

log = logging.getLogger(__name__)


async def listen_until(
    database_url: str,
    channel: str,
    on_notify: Callable[[str], None],
    stopping: asyncio.Event,
    *,
    on_up: Callable[[], None] | None = None,
    on_down: Callable[[], None] | None = None,
    retry_s: float = 1.0,
) -> None:
    """LISTEN on `channel` until `stopping` is set, calling `on_notify(payload)` for each notification.

    `on_up` runs once the LISTEN is in place and `on_down` whenever it is lost (and on the way out), so a
    caller that trusts state only while notifications flow can tell when they do.
    """
    while not stopping.is_set():
        try:
            # LISTEN is refused on a standby, and NOTIFY is only sent on the primary.
            conn = await connect_primary(database_url)
        # InternalClientError: TargetServerAttributeNotMatched, no host accepts writes yet (mid-failover).
        except (OSError, asyncpg.PostgresError, asyncpg.InternalClientError) as exc:
            log.warning("LISTEN connection failed", extra={"channel": channel, "error": str(exc)})
            await wait_or_timeout(stopping, retry_s)
            continue
        try:
            await conn.add_listener(channel, lambda _conn, _pid, _channel, payload: on_notify(payload))
            if on_up is not None:
                on_up()
            while not stopping.is_set() and not conn.is_closed():
                await wait_or_timeout(stopping, retry_s)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("LISTEN connection lost", extra={"channel": channel, "error": str(exc)})
        finally:
            if on_down is not None:
                on_down()
            with contextlib.suppress(Exception):
                await conn.close()
