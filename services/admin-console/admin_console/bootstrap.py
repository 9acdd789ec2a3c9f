"""The composition root: the console's web app wired to its backends from one Settings object."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web
from suite_common import metrics

from admin_console.adapters.backend import Backend
from admin_console.config import Settings
from admin_console.entrypoints.http.app import build_web_app
from admin_console.entrypoints.http.context import BACKEND, SESSIONS, SETTINGS
from admin_console.entrypoints.http.observability import METRICS, ConsoleMetrics
from admin_console.service_layer.sessions import SessionCodec

log = logging.getLogger(__name__)


def build_app(settings: Settings, backend: Backend | None = None) -> web.Application:
    """The console app; `backend` is given by tests that bring their own, else built from the settings."""
    app = build_web_app()
    app[SETTINGS] = settings
    secret = settings.session_secret
    if not secret:
        log.warning(
            "CONSOLE_SESSION_SECRET is not set: sessions end when this process does (one replica only)"
        )
        secret = secrets.token_urlsafe(32)
    app[SESSIONS] = SessionCodec(secret, settings.session_idle_s, settings.session_max_age_s)
    app[METRICS] = ConsoleMetrics(metrics.new_registry())

    async def backend_ctx(app: web.Application) -> AsyncIterator[None]:
        own = backend is None
        b = backend or Backend(
            settings.directory_addr, settings.portal_addr, settings.admin_token, settings.rpc_timeout_s
        )
        app[BACKEND] = b
        yield
        if own:
            await b.close()

    app.cleanup_ctx.append(backend_ctx)
    return app
