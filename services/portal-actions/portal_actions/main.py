"""`portal-actions [serve|migrate]`: the portal-actions process entry point."""

from __future__ import annotations

from suite_common.instrumentation import instrument_asyncpg, instrument_grpc_server
from suite_common.process import ServiceCommands, service_main

from portal_actions.bootstrap import migrate, serve
from portal_actions.config import load_settings


def main() -> None:
    service_main(
        ServiceCommands(
            "portal-actions",
            load_settings,
            serve,
            migrate,
            instrument=(instrument_grpc_server, instrument_asyncpg),
        )
    )


if __name__ == "__main__":
    main()
