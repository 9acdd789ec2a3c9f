"""`scim-edge`: serve the SCIM API until SIGTERM, then drain (readiness first, in-flight requests finish)."""

from __future__ import annotations

import asyncio

from suite_common.instrumentation import instrument_grpc_client
from suite_common.process import ServiceCommands, service_main
from suite_common.service import Runtime, run_service
from suite_common.web import serve_web

from scim_edge.config import Settings, load_settings
from scim_edge.http.app import build_app

ACCEPTED_LINGER_S = 0.5


async def serve(settings: Settings, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
    async def compose(runtime: Runtime) -> None:
        await serve_web(
            runtime, build_app(settings), settings.host, settings.port, linger_s=ACCEPTED_LINGER_S
        )

    await run_service("scim-edge", compose, stop, grace_s=settings.shutdown_grace_s, ready=ready)


def main() -> None:
    service_main(ServiceCommands("scim-edge", load_settings, serve, instrument=(instrument_grpc_client,)))


if __name__ == "__main__":
    main()
