"""The directory's own errors, mapped to gRPC statuses once (`directory.entrypoints.grpc_status`).

DirectoryError
├── InvalidRequest    a malformed or disallowed admin request    -> INVALID_ARGUMENT
├── NotFound          no such workspace or connection            -> NOT_FOUND
└── AlreadyExists     a workspace name taken                     -> ALREADY_EXISTS

SCIM verdicts on the data API keep scim_core's tree (`scim_core.errors.ScimError`, RFC 7644 §3.12),
which crosses the wire with a typed detail the edge reads back.
"""

from __future__ import annotations


class DirectoryError(Exception):
    """Root of the directory's errors; the message is meant for the admin who made the request."""


class InvalidRequest(DirectoryError):
    pass


class NotFound(DirectoryError):
    pass


class AlreadyExists(DirectoryError):
    pass
