"""`portal-actions [serve|migrate]`: the portal-actions process entry point."""

from __future__ import annotations

from suite_common.instrumentation import GRPC_SERVER_ON_POSTGRES
from suite_common.process import ServiceCommands, service_main

from portal_actions.bootstrap import migrate, serve
from portal_actions.config import load_settings


def main() -> None:
    service_main(ServiceCommands("portal-actions", load_settings, serve, migrate, GRPC_SERVER_ON_POSTGRES))


if __name__ == "__main__":
    main()
