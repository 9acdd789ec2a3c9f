"""SCIM bodies for requests that fail before routing: HTTP parse errors, oversized request lines or headers.

aiohttp answers those from its `RequestHandler.handle_error` with a plain-text 400, before any middleware
runs. Okta's and Entra's parsers reject a body that is not JSON (idp-clients §4, lessons 5 and 15), so the
edge serves with a request handler whose `handle_error` writes an RFC 7644 §3.12 body with
`application/scim+json` instead. It is installed through the server factory (`ScimAppRunner`), and it still
closes the connection, as aiohttp does, since the stream position after a parse error is unknown.

What stays out of reach: a client that breaks the connection, or a response already partly sent when the
error happens (aiohttp then drops the connection; nothing can be written).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from aiohttp import web, web_protocol
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong
from scim_core import errors

from scim_edge.http.responses import scim_error

log = logging.getLogger(__name__)


class UriTooLong(errors.ScimError):
    """RFC 9110 §15.5.15: the request line (method, target with its query, version) exceeds the limit."""

    status: ClassVar[int] = 414


class HeadersTooLarge(errors.ScimError):
    """RFC 6585 §5: a header line, or the number of headers, exceeds the limit."""

    status: ClassVar[int] = 431


def _is_request_line(exc: LineTooLong, max_line_size: int, max_field_size: int) -> bool:
    """Whether the overflow is in the request line rather than a header line.

    aiohttp reports both as `LineTooLong(start of the line, limit)`; the limit tells them apart when the
    two limits differ (the defaults do), and otherwise a request target starts with `/` (origin form).
    """
    line, limit = exc.args[0], exc.args[1]
    if max_line_size != max_field_size and limit in (max_line_size, max_field_size):
        return bool(limit == max_line_size)
    start = line.decode("latin-1") if isinstance(line, bytes | bytearray) else str(line)
    return start.startswith(("/", "http://", "https://")) or "status line" in start.lower()


def protocol_error(
    status: int, exc: BaseException | None, message: str | None, max_line_size: int, max_field_size: int
) -> errors.ScimError:
    """The SCIM error for a failure aiohttp reports to `handle_error` (status 400 for parse errors)."""
    if status >= 500:
        return errors.InternalError("internal error while handling the request")
    text = (message or (exc.message if isinstance(exc, HttpProcessingError) else "") or "").strip()
    if isinstance(exc, LineTooLong):
        if _is_request_line(exc, max_line_size, max_field_size):
            return UriTooLong(
                f"request line longer than {max_line_size} bytes; send long filters with POST .search"
            )
        return HeadersTooLarge(f"a header line is longer than {max_field_size} bytes")
    if "too many headers" in text.lower():
        return HeadersTooLarge(f"too many headers: {text}")
    return errors.InvalidSyntax(f"malformed HTTP request: {text or 'unparseable'}")


class ScimRequestHandler(web_protocol.RequestHandler):
    """aiohttp's connection handler with SCIM error bodies for protocol-level failures."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            # Part of a response is on the wire: aiohttp drops the connection, and so do we.
            return super().handle_error(request, status, exc, message)
        error = protocol_error(status, exc, message, self.max_line_size, self.max_field_size)
        if status >= 500:
            log.error("error handling request", exc_info=exc)
        elif not isinstance(exc, BadHttpMethod):  # non-HTTP traffic on the port is noise, as aiohttp says
            log.info("rejected malformed request", extra={"status": error.status, "detail": error.detail})
        response = scim_error(error)
        response.force_close()
        return response


class ScimServer(web.Server):
    """The low-level server, building `ScimRequestHandler`s for its connections."""

    def __call__(self) -> ScimRequestHandler:
        return ScimRequestHandler(self, loop=self._loop, **self._kwargs)


class ScimAppRunner(web.AppRunner):
    """`web.AppRunner` whose server speaks SCIM errors at the protocol level too."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return ScimServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )
