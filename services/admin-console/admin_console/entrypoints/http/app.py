"""The console's aiohttp application: templates, middlewares, routes."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from suite_common.health import DependencyHealth
from suite_common.web import web_app

from admin_console.entrypoints.http import (
    auth,
    devices,
    errors,
    logs,
    mappings,
    observability,
    operations,
    people,
    portal_page,
    safeguards,
    scim_setup,
    security_events,
    workspaces,
)
from admin_console.entrypoints.http.filters import install_filters

PACKAGE = Path(__file__).resolve().parents[2]
P = "/workspaces/{ws}/{portal:dashboard|store|mdm}"


async def no_icon(_: web.Request) -> web.Response:
    return web.Response(status=204)


async def home(_: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/workspaces")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_static("/static/", PACKAGE / "static")
    r.add_get("/favicon.ico", no_icon)
    r.add_get("/sign-in", auth.sign_in_page)
    r.add_post("/sign-in", auth.sign_in)
    r.add_post("/sign-out", auth.sign_out)
    r.add_get("/", home)
    r.add_get("/workspaces", workspaces.list_workspaces)
    r.add_post("/workspaces", workspaces.create_workspace)
    r.add_get("/operations", operations.operations)
    r.add_post("/operations/replay", operations.replay)
    r.add_post("/operations/replay-all", operations.replay_all)
    r.add_get("/audit", operations.admin_audit)
    r.add_get("/workspaces/{ws}", workspaces.open_workspace)
    r.add_get("/workspaces/{ws}/roles", mappings.roles)
    r.add_post("/workspaces/{ws}/roles", mappings.map_role)
    r.add_get("/workspaces/{ws}/devices", devices.devices)
    r.add_post("/workspaces/{ws}/devices", devices.change)
    r.add_get(P, portal_page.portal_page)
    r.add_get(P + "/enable", scim_setup.enable_form)
    r.add_post(P + "/enable", scim_setup.enable)
    r.add_get(P + "/first-request.json", scim_setup.first_request)
    r.add_get(P + "/tokens", scim_setup.tokens)
    r.add_post(P + "/tokens/rotate", scim_setup.rotate)
    r.add_post(P + "/tokens/revoke", scim_setup.revoke)
    r.add_post(P + "/disable", scim_setup.disable)
    r.add_get(P + "/behaviour", scim_setup.behaviour_form)
    r.add_post(P + "/behaviour", scim_setup.save_behaviour)
    r.add_get(P + "/attributes", mappings.attributes)
    r.add_post(P + "/attributes", mappings.map_attribute)
    r.add_post(P + "/attributes/remove", mappings.remove_attribute)
    r.add_get(P + "/log", logs.log_page)
    r.add_get(P + "/log.json", logs.log_json)
    r.add_get(P + "/log/{entry}", logs.log_entry)
    r.add_get(P + "/people", people.people)
    r.add_get(P + "/people/{user}", people.person)
    r.add_get(P + "/groups", people.groups)
    r.add_get(P + "/groups/{group}", people.group)
    r.add_post(P + "/profile", scim_setup.set_profile)
    r.add_get(P + "/events", security_events.events_page)
    r.add_post(P + "/events", security_events.create_stream)
    r.add_post(P + "/events/delete", security_events.delete_stream)
    r.add_post(P + "/events/receivers", security_events.add_receiver)
    r.add_post(P + "/events/receivers/remove", security_events.remove_receiver)
    r.add_get(P + "/people/{user}/preview", safeguards.preview)
    r.add_post(P + "/guard", safeguards.set_guard)
    r.add_post(P + "/guard/release", safeguards.release_held)
    r.add_post(P + "/guard/discard", safeguards.discard_held)
    r.add_post(P + "/dry-run", safeguards.set_dry_run)
    r.add_get(P + "/drift", safeguards.drift)
    r.add_post(P + "/drift/repair", safeguards.repair)


async def not_found(_: web.Request) -> web.StreamResponse:
    raise web.HTTPNotFound()


def build_web_app(health: DependencyHealth) -> web.Application:
    """suite_common's app (span, series and log line per request; /healthz, /readyz, /metrics), then the
    guard, then error pages: inside the guard, so an unauthenticated probe of any URL gets the sign-in
    redirect, not a hint of whether the page exists."""
    app = web_app(
        health=health,
        route_template=observability.route_template,
        middlewares=[auth.guard, errors.error_pages],
    )
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(PACKAGE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    install_filters(env)
    add_routes(app)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
