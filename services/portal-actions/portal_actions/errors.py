"""portal-actions' own errors, mapped to gRPC statuses once (`portal_actions.entrypoints.grpc_status`).

PortalActionsError
├── InvalidRequest      a rejected option, mapping, role or policy    -> INVALID_ARGUMENT
│   └── InvalidBehaviour  (portal_actions.domain.behaviour)
└── NotFound            no such device or policy                      -> NOT_FOUND
"""

from __future__ import annotations


class PortalActionsError(Exception):
    """Root of portal-actions' errors; the message is meant for the admin who made the request."""


class InvalidRequest(PortalActionsError, ValueError):
    pass


class NotFound(PortalActionsError, LookupError):
    pass
