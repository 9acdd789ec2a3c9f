"""The console's composition root: settings (+ an optional backend) -> the web app on suite_common's
service runtime (readiness drops first on SIGTERM, then in-flight requests finish)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web
from suite_common.health import DependencyHealth
from suite_common.service import Runtime, serving
from suite_common.web import serve_web

from admin_console.adapters.backend import Backend
from admin_console.config import Settings
from admin_console.entrypoints.http.app import build_web_app
from admin_console.entrypoints.http.context import BACKEND, SESSIONS, SETTINGS
from admin_console.service_layer.sessions import SessionCodec

log = logging.getLogger(__name__)


def build_app(settings: Settings, backend: Backend | None = None) -> web.Application:
    """The console app; `backend` is given by tests that bring their own, else built from the settings."""
    b = backend or Backend(
        settings.directory_addr,
        settings.portal_addr,
        settings.admin_token,
        settings.rpc_timeout_s,
        events_addr=settings.security_events_addr,
    )
    app = build_web_app(
        DependencyHealth({"directory": b.directory_serving, "portal-actions": b.portal_serving})
    )
    app[SETTINGS] = settings
    app[BACKEND] = b
    secret = settings.session_secret
    if not secret:
        log.warning(
            "CONSOLE_SESSION_SECRET is not set: sessions end when this process does (one replica only)"
        )
        secret = secrets.token_urlsafe(32)
    app[SESSIONS] = SessionCodec(secret, settings.session_idle_s, settings.session_max_age_s)

    async def backend_ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        if backend is None:
            await b.close()

    app.cleanup_ctx.append(backend_ctx)
    return app


async def compose(runtime: Runtime, settings: Settings) -> int:
    if not settings.admin_token:
        log.warning("ADMIN_TOKEN is not set: nobody can sign in")
    port = await serve_web(runtime, build_app(settings), settings.host, settings.port)
    log.info("admin console serving", extra={"url": f"http://{settings.host}:{port}"})
    return port


serve = serving("admin-console", compose)
