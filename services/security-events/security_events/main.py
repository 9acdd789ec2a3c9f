"""`security-events [serve|migrate]`: the security-events process entry point."""

from __future__ import annotations

import argparse
import asyncio

from suite_common.lifecycle import install_fast_loop, shutdown_event
from suite_common.logs import setup_logging
from suite_common.settings import environ
from suite_common.telemetry import setup_tracing

from security_events.bootstrap import SecurityEventsApp, migrate
from security_events.config import load_settings
from security_events.domain.key_encryption import KeyEncryptionError, Sealer


async def _serve() -> None:
    settings = load_settings()
    setup_logging("security-events", settings.log_level)
    try:
        Sealer(settings.key_encryption_secret)
    except KeyEncryptionError as exc:
        raise SystemExit(f"security-events: SECURITY_EVENTS_KEY_SECRET: {exc}") from None
    setup_tracing("security-events", environ())
    from suite_common.instrumentation import instrument_asyncpg, instrument_grpc_server

    instrument_grpc_server()
    instrument_asyncpg()
    app = SecurityEventsApp(settings)
    stop = shutdown_event()
    runner = asyncio.create_task(app.run())
    await stop.wait()
    await app.shutdown()
    await runner


async def _migrate() -> None:
    settings = load_settings()
    setup_logging("security-events", settings.log_level)
    applied = await migrate(settings.database_url)
    print(f"applied {len(applied)} migration(s)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="security-events")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    install_fast_loop()
    asyncio.run(_serve() if args.command == "serve" else _migrate())


if __name__ == "__main__":
    main()
