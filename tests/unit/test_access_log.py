"""The HTTP observer logs every error and a sample of successes at INFO, counts every request, and makes
no span while tracing is off."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from suite_common import telemetry
from suite_common.health import DependencyHealth
from suite_common.web import METRICS, web_app


def _app(every: int) -> web.Application:
    async def ok(_: web.Request) -> web.Response:
        return web.json_response({})

    async def missing(_: web.Request) -> web.Response:
        return web.json_response({}, status=404)

    app = web_app(health=DependencyHealth({}), route_template=lambda path: path, access_log_every=every)
    app.router.add_get("/ok", ok)
    app.router.add_get("/missing", missing)
    return app


async def test_successes_are_sampled_at_info_errors_always_and_metrics_count_all(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert not telemetry.tracing_enabled()
    app = _app(every=5)
    caplog.set_level(logging.DEBUG, logger="suite_common.web")
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        for _ in range(11):
            async with http.get(str(server.make_url("/ok"))) as resp:
                assert resp.status == 200
        for _ in range(3):
            async with http.get(str(server.make_url("/missing"))) as resp:
                assert resp.status == 404
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    info_ok = [r for r in lines if r.levelno == logging.INFO and r.__dict__["status"] == 200]
    debug_ok = [r for r in lines if r.levelno == logging.DEBUG and r.__dict__["status"] == 200]
    errors = [r for r in lines if r.__dict__["status"] == 404]
    assert len(info_ok) == 3 and len(debug_ok) == 8  # the 1st, 6th and 11th success
    assert all(r.__dict__["sampled_every"] == 5 for r in info_ok)
    assert len(errors) == 3 and all(r.levelno == logging.INFO for r in errors)
    requests = app[METRICS].requests
    assert requests.labels("GET", "/ok", "200")._value.get() == 11
    assert requests.labels("GET", "/missing", "404")._value.get() == 3


async def test_every_request_is_logged_at_info_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="suite_common.web")
    async with TestServer(_app(every=1), host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        for _ in range(4):
            async with http.get(str(server.make_url("/ok"))) as resp:
                assert resp.status == 200
    lines = [r for r in caplog.records if r.getMessage() == "request" and r.levelno == logging.INFO]
    assert len(lines) == 4 and not any(hasattr(r, "sampled_every") for r in lines)


def test_with_tracing_off_propagation_does_nothing() -> None:
    assert not telemetry.tracing_enabled()
    assert telemetry.inject({}) == {}
    carrier = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    assert telemetry.extract(carrier) == {}
