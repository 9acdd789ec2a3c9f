"""The two admin APIs scimctl talks to, and the small parsing helpers its commands share."""

from __future__ import annotations

import argparse
import re

from scimsuite.admin.v1 import admin_pb2, admin_pb2_grpc
from scimsuite.events_out.v1 import events_out_pb2_grpc
from scimsuite.portal.v1 import portal_pb2_grpc


class NotConfigured(Exception):
    """An optional service scimctl was asked to use is not configured."""


class Clients:
    def __init__(
        self,
        directory: admin_pb2_grpc.DirectoryAdminStub,
        portal: portal_pb2_grpc.PortalAdminStub,
        metadata: tuple[tuple[str, str], ...],
        streams: events_out_pb2_grpc.SecurityEventsAdminStub | None = None,
    ) -> None:
        self.directory = directory
        self.portal = portal
        self.md = metadata
        self._streams = streams

    @property
    def streams(self) -> events_out_pb2_grpc.SecurityEventsAdminStub:
        if self._streams is None:
            raise NotConfigured(
                "security-events is not configured: set SECURITY_EVENTS_ADDR "
                "(or start the suite with `make run`)"
            )
        return self._streams

    def workspace_id(self, ref: str) -> str:
        """A workspace name or id → its id (portal configuration is keyed by id)."""
        ws = self.directory.GetWorkspace(admin_pb2.GetWorkspaceRequest(workspace=ref), metadata=self.md)
        return str(ws.id)


def parse_duration(text: str) -> int:
    """`90`, `90s`, `10m`, `2h`, `1d` → seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30s, 10m, 2h)")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
