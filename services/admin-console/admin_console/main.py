"""`admin-console`: serve the web console until SIGTERM, then let in-flight requests finish."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from suite_common.instrumentation import instrument_grpc_client
from suite_common.lifecycle import install_fast_loop, shutdown_event
from suite_common.logs import setup_logging
from suite_common.settings import environ
from suite_common.telemetry import setup_tracing

from admin_console.bootstrap import build_app
from admin_console.config import Settings, load_settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    if not settings.admin_token:
        log.warning("ADMIN_TOKEN is not set: nobody can sign in")
    runner = web.AppRunner(build_app(settings), access_log=None, shutdown_timeout=settings.shutdown_grace_s)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    await site.start()
    log.info("admin console serving", extra={"url": f"http://{settings.host}:{settings.port}"})
    await stop.wait()
    await site.stop()
    await runner.cleanup()


async def _main() -> None:
    settings = load_settings()
    setup_logging("admin-console", settings.log_level)
    setup_tracing("admin-console", environ())
    instrument_grpc_client()
    await serve(settings, shutdown_event())


def main() -> None:
    install_fast_loop()
    asyncio.run(_main())


if __name__ == "__main__":
    main()
