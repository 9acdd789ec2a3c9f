"""Protocol-level failures get RFC 7644 §3.12 bodies too (issue 11), and the limits fit what IdPs send.

The requests are written byte by byte on a raw socket, since a well-behaved HTTP client refuses to send
most of them. Every answer must be `application/scim+json` with the Error schema, never aiohttp's
plain-text 400.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, urlsplit

from tests.support.scim_client import ScimClient
from tests.support.stack import Stack

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
# Beyond EDGE_MAX_REQUEST_LINE_BYTES (64 KiB) and EDGE_MAX_HEADER_BYTES (32 KiB).
OVERSIZED = 70 * 1024


async def _exchange(stack: Stack, request: bytes) -> tuple[int, dict[str, str], Any]:
    """Send raw bytes, read the whole answer (the edge closes the connection after a protocol error)."""
    url = urlsplit(stack.edge_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body) if body else None


def _assert_scim_error(answer: tuple[int, dict[str, str], Any], status: int) -> None:
    got, headers, body = answer
    assert got == status, answer
    assert headers["content-type"].startswith("application/scim+json"), headers
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"], body


def _path(scim: ScimClient, tail: str) -> str:
    return urlsplit(scim.base).path + tail


async def test_oversized_header_line_gets_a_scim_431(stack: Stack, scim: ScimClient) -> None:
    request = (
        f"GET {_path(scim, '/Users')} HTTP/1.1\r\nHost: edge\r\nAuthorization: {scim.auth}\r\n"
        f"X-Padding: {'a' * OVERSIZED}\r\n\r\n"
    ).encode()
    _assert_scim_error(await _exchange(stack, request), 431)


async def test_oversized_authorization_header_gets_a_scim_431(stack: Stack, scim: ScimClient) -> None:
    token = "t" * OVERSIZED
    request = f"GET {_path(scim, '/Users')} HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer {token}\r\n\r\n"
    _assert_scim_error(await _exchange(stack, request.encode()), 431)


async def test_oversized_request_line_gets_a_scim_414(stack: Stack, scim: ScimClient) -> None:
    target = _path(scim, "/Users?filter=" + quote('userName eq "' + "x" * OVERSIZED + '"'))
    request = f"GET {target} HTTP/1.1\r\nHost: edge\r\nAuthorization: {scim.auth}\r\n\r\n"
    _assert_scim_error(await _exchange(stack, request.encode()), 414)


async def test_malformed_requests_get_a_scim_400(stack: Stack, scim: ScimClient) -> None:
    path = _path(scim, "/Users")
    for request in (
        b"this is not http\r\n\r\n",
        f"GET {path} HTTP/1.1\r\nHost: edge\r\nBroken header line\r\n\r\n".encode(),
        f"POST {path} HTTP/1.1\r\nHost: edge\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{{}}".encode(),
    ):
        _assert_scim_error(await _exchange(stack, request), 400)


async def test_long_filters_and_tokens_within_idp_sizes_are_served(scim: ScimClient) -> None:
    # Entra's JWTs and Okta's OAuth tokens run to several KiB; a wrong one is a SCIM 401, not a 400.
    wrong = await scim.get("/Users", auth="Bearer " + "t" * 16 * 1024)
    assert wrong.status == 401 and wrong.json["schemas"] == [ERROR], wrong
    # A filter whose request line is past aiohttp's default 8,190 bytes (though within the filter
    # grammar's 10,000 characters) is parsed and answered.
    names = " or ".join(f'userName eq "nobody-{i}@example.com"' for i in range(240))
    assert len(names) < 10_000 < len(quote(names))
    found = await scim.get("/Users", params={"filter": names})
    assert found.status == 200 and found.json["totalResults"] == 0, found
