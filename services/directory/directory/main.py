"""`directory [serve|migrate]`: the directory service's process entry point."""

from __future__ import annotations

from suite_common.instrumentation import GRPC_SERVER_ON_POSTGRES
from suite_common.process import ServiceCommands, service_main

from directory.bootstrap import migrate, serve
from directory.config import load_settings


def main() -> None:
    service_main(ServiceCommands("directory", load_settings, serve, migrate, GRPC_SERVER_ON_POSTGRES))


if __name__ == "__main__":
    main()
