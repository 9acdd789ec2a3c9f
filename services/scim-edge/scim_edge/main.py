"""`scim-edge`: serve the SCIM API until SIGTERM, then drain (readiness first, in-flight requests finish)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from suite_common.lifecycle import install_fast_loop, shutdown_event
from suite_common.logs import setup_logging
from suite_common.settings import environ
from suite_common.telemetry import setup_tracing

from scim_edge.config import Settings, load_settings
from scim_edge.http import health
from scim_edge.http.app import build_app
from scim_edge.http.protocol_errors import ScimAppRunner

ACCEPTED_LINGER_S = 0.5


async def serve(settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None) -> int:
    app = build_app(settings)
    runner = ScimAppRunner(
        app,
        access_log=None,
        shutdown_timeout=settings.shutdown_grace_s,
        # aiohttp's 8,190-byte defaults are below what IdPs send: Entra's JWTs in Authorization, and
        # long filters in the request line.
        max_line_size=settings.max_request_line_bytes,
        max_field_size=settings.max_header_bytes,
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or ()  # a port of 0 asks the OS for one: report it
    port = int(sockets[0].getsockname()[1]) if sockets else settings.port
    if ready is not None:
        ready.set()
    await stop.wait()
    app[health.DRAINING][0] = True
    # Stop listening, then let connections accepted just before deliver their request: aiohttp's cleanup
    # closes every connection that has not, which its client would see as a dropped request.
    await site.stop()
    await asyncio.sleep(ACCEPTED_LINGER_S)
    await runner.cleanup()
    return port


async def _main() -> None:
    settings = load_settings()
    setup_logging("scim-edge", settings.log_level)
    setup_tracing("scim-edge", environ())
    from suite_common.instrumentation import instrument_grpc_client

    instrument_grpc_client()
    await serve(settings, shutdown_event())


def main() -> None:
    install_fast_loop()
    asyncio.run(_main())


if __name__ == "__main__":
    main()
