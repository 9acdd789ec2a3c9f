"""Sign-in, sign-out, and the middleware that guards every page and every action.

Without a valid session, a GET is redirected to the sign-in page and anything else is refused (403);
every POST must carry the session's CSRF token (the cookie is also SameSite=Strict). With
`CONSOLE_TRUSTED_USER_HEADER` set, a request carrying that header (set by an authenticating proxy in front
of the console, which must strip it from clients) is signed in as the user it names.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web

from admin_console.entrypoints.http.context import SESSION, SESSIONS, SETTINGS
from admin_console.entrypoints.http.render import page
from admin_console.service_layer.sessions import COOKIE, Session

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/sign-in", "/healthz", "/readyz", "/metrics", "/static/", "/favicon.ico")
TOKEN_SUBJECT = "admin"
SIGN_IN_COOKIE = "console_sign_in"


def _secure(request: web.Request) -> bool:
    mode = request.app[SETTINGS].cookie_secure
    if mode != "auto":
        return mode == "always"
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    codec = request.app[SESSIONS]
    response.set_cookie(
        COOKIE,
        codec.encode(session),
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
        path="/",
        max_age=int(codec.idle_s),
    )


def _refused(request: web.Request, message: str) -> web.Response:
    return page(request, "refused.html", {"message": message}, status=403)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC):
        return await handler(request)
    settings = request.app[SETTINGS]
    codec = request.app[SESSIONS]
    session = codec.decode(request.cookies.get(COOKIE, ""))
    proxy_user = (
        request.headers.get(settings.trusted_user_header, "").strip() if settings.trusted_user_header else ""
    )
    if proxy_user and (session is None or session.subject != proxy_user):
        session = codec.new(proxy_user)
    if session is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(f"/sign-in?next={quote(request.path_qs, safe='')}")
        return _refused(request, "You are not signed in. Sign in first.")
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        supplied = str(form.get("csrf", ""))
        if not session.csrf_ok(supplied):
            return _refused(
                request,
                "This form has expired or did not come from the console. Reload the page and try again.",
            )
    request[SESSION] = session
    response = await handler(request)
    # Renewing the signature on every answer makes the idle expiry slide.
    set_session_cookie(request, response, session)
    return response


def _safe_next(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/workspaces"
    return value


def _sign_in_form(request: web.Request, target: str, error: str, status: int) -> web.Response:
    """The sign-in form, with a double-submit CSRF token (there is no session yet to hold one)."""
    # Reuse the token already issued to this browser: a second load of the page (another tab, the
    # browser's own favicon request landing here) must not invalidate a form that is already open.
    current = request.cookies.get(SIGN_IN_COOKIE, "")
    token = current if len(current) >= 32 else secrets.token_urlsafe(24)
    response = page(request, "sign_in.html", {"next": target, "error": error, "csrf": token}, status=status)
    response.set_cookie(
        SIGN_IN_COOKIE, token, httponly=True, samesite="Strict", secure=_secure(request), path="/sign-in"
    )
    return response


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    return _sign_in_form(request, _safe_next(request.query.get("next", "/workspaces")), "", 200)


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    supplied = str(form.get("admin_token", "")).strip()
    target = _safe_next(str(form.get("next", "/workspaces")))
    configured = request.app[SETTINGS].admin_token
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")).encode(), expected.encode()):
        return _refused(request, "This sign-in form has expired or did not come from the console. Reload it.")
    if not supplied:
        error = "Enter the admin token."
    elif not configured or not hmac.compare_digest(supplied.encode(), configured.encode()):
        error = "That admin token is not correct."
    else:
        response = web.HTTPSeeOther(target)
        set_session_cookie(request, response, request.app[SESSIONS].new(TOKEN_SUBJECT))
        response.del_cookie(SIGN_IN_COOKIE, path="/sign-in")
        raise response
    return _sign_in_form(request, target, error, 400)


async def sign_out(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/sign-in")
    response.del_cookie(COOKIE, path="/")
    raise response
