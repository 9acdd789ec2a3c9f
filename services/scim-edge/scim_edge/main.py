"""`scim-edge`: serve the SCIM API until SIGTERM, then drain (readiness first, in-flight requests finish)."""

from __future__ import annotations

from suite_common.instrumentation import instrument_grpc_client
from suite_common.process import ServiceCommands, service_main
from suite_common.service import Runtime, serving
from suite_common.web import serve_web

from scim_edge.config import Settings, load_settings
from scim_edge.http.app import build_app
from scim_edge.http.protocol_errors import ScimAppRunner

ACCEPTED_LINGER_S = 0.5


async def compose(runtime: Runtime, settings: Settings) -> int:
    """The edge is one aiohttp app (its directory client opens and closes with it); returns the port."""
    app = build_app(settings)
    # aiohttp's 8,190-byte line limits are below what IdPs send (Entra's JWTs in Authorization, long
    # filters in the request line); the runner's request handler answers parse errors with SCIM bodies.
    return await serve_web(
        runtime,
        app,
        settings.host,
        settings.port,
        linger_s=ACCEPTED_LINGER_S,
        runner_class=ScimAppRunner,
        max_line_size=settings.max_request_line_bytes,
        max_field_size=settings.max_header_bytes,
    )


serve = serving("scim-edge", compose)


def main() -> None:
    service_main(ServiceCommands("scim-edge", load_settings, serve, instrument=(instrument_grpc_client,)))


if __name__ == "__main__":
    main()
