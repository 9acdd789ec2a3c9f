"""`<service> [serve|migrate]`: the process entry point every service shares.

Settings are read once, logging and tracing are set up before anything is created (instrumentors patch
constructors), SIGTERM/SIGINT/SIGHUP set the stop event, and `serve` runs until it is set.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from suite_common.lifecycle import install_fast_loop, shutdown_event
from suite_common.logs import setup_logging
from suite_common.settings import environ
from suite_common.telemetry import setup_tracing


class _ServiceSettings(Protocol):
    @property
    def log_level(self) -> str: ...


@dataclass(frozen=True)
class ServiceCommands:
    """How one service is started: its name, settings, the serve coroutine and, if it owns a schema,
    the migration step (which takes the database URL and returns the migrations it applied)."""

    name: str
    load_settings: Callable[[], Any]
    serve: Callable[[Any, asyncio.Event], Awaitable[object]]
    migrate: Callable[[str], Awaitable[list[str]]] | None = None
    instrument: Sequence[Callable[[], None]] = ()


async def _serve(commands: ServiceCommands) -> None:
    settings: _ServiceSettings = commands.load_settings()
    setup_logging(commands.name, settings.log_level)
    setup_tracing(commands.name, environ())
    for instrument in commands.instrument:
        instrument()
    await commands.serve(settings, shutdown_event())


async def _migrate(commands: ServiceCommands) -> None:
    assert commands.migrate is not None
    settings = commands.load_settings()
    setup_logging(commands.name, settings.log_level)
    applied = await commands.migrate(settings.database_url)
    print(f"applied {len(applied)} migration(s)")


def service_main(commands: ServiceCommands, argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=commands.name)
    choices = ["serve", "migrate"] if commands.migrate is not None else ["serve"]
    parser.add_argument("command", nargs="?", default="serve", choices=choices)
    args = parser.parse_args(argv)
    install_fast_loop()
    asyncio.run(_serve(commands) if args.command == "serve" else _migrate(commands))
