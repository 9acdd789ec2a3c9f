"""`security-events [serve|migrate]`: the security-events process entry point."""

from __future__ import annotations

import sys

from suite_common.instrumentation import GRPC_SERVER_ON_POSTGRES
from suite_common.process import ServiceCommands, service_main

from security_events.bootstrap import migrate, serve
from security_events.config import load_settings
from security_events.domain.key_encryption import KeyEncryptionError, Sealer


def _require_key_secret() -> None:
    """A clear message, not a traceback, when the key-encryption secret is missing or too short."""
    try:
        Sealer(load_settings().key_encryption_secret)
    except KeyEncryptionError as exc:
        raise SystemExit(f"security-events: SECURITY_EVENTS_KEY_SECRET: {exc}") from None


def main() -> None:
    if "migrate" not in sys.argv[1:]:
        _require_key_secret()
    service_main(ServiceCommands("security-events", load_settings, serve, migrate, GRPC_SERVER_ON_POSTGRES))


if __name__ == "__main__":
    main()
