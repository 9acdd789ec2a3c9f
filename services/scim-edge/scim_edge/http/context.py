"""Per-request facts every handler needs: the connection in the URL, the caller's credential, the base URL."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from scim_core import errors

from scim_edge.adapters.directory_client import DirectoryClient
from scim_edge.config import Settings

SETTINGS = web.AppKey("settings", Settings)
DIRECTORY = web.AppKey("directory", DirectoryClient)
# Set by the error middleware for every request: the caller's X-Request-Id, or a fresh one.
REQUEST_ID = web.RequestKey("request_id", str)
# Set by the observability middleware from headers and URL, refined by handlers that read a body: the IdP
# recognised in the request (scim_edge.scim.idp), and the profile the directory answered with.
CLIENT_IDP = web.RequestKey("client_idp", str)
PROFILE = web.RequestKey("profile", str)
# Longer credentials are refused at once (still a SCIM 401): gRPC caps a metadata value at 16 KiB.
MAX_CREDENTIAL_CHARS = 8 * 1024


@dataclass(frozen=True)
class Call:
    connection_id: str
    authorization: str
    base_url: str
    request_id: str
    settings: Settings
    directory: DirectoryClient
    client_idp: str = "unknown"


def call_context(request: web.Request) -> Call:
    settings = request.app[SETTINGS]
    authorization = request.headers.get("Authorization", "").strip()
    if not authorization:
        raise errors.Unauthorized("authentication required: send Authorization: Bearer <token>")
    if len(authorization) > MAX_CREDENTIAL_CHARS:
        # No token the directory issues comes near this; gRPC metadata could not carry it anyway.
        raise errors.Unauthorized("invalid bearer token")
    cid = request.match_info["connection_id"]
    if settings.public_base_url:
        root = settings.public_base_url
    else:
        scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
        root = f"{scheme}://{host}"
    return Call(
        connection_id=cid,
        authorization=authorization,
        base_url=f"{root}/scim/v2/{cid}",
        request_id=request[REQUEST_ID],
        settings=settings,
        directory=request.app[DIRECTORY],
        client_idp=request.get(CLIENT_IDP, "unknown"),
    )
