"""`admin-console`: serve the web console until SIGTERM, then drain (readiness first, requests finish)."""

from __future__ import annotations

from suite_common.instrumentation import instrument_grpc_client
from suite_common.process import ServiceCommands, service_main

from admin_console.bootstrap import serve
from admin_console.config import load_settings


def main() -> None:
    service_main(ServiceCommands("admin-console", load_settings, serve, instrument=(instrument_grpc_client,)))


if __name__ == "__main__":
    main()
