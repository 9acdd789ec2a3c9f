"""security-events' own errors, mapped to gRPC statuses once (`security_events.entrypoints.grpc_status`).

SecurityEventsError
├── InvalidRequest        a rejected stream, receiver or poll argument     -> INVALID_ARGUMENT
│   ├── UnknownEventUri     (security_events.domain.event_uris)
│   └── UnsupportedAlgorithm  (security_events.domain.signing)
├── NotFound              no such stream or receiver                       -> NOT_FOUND
├── AlreadyExists         a second stream for one (workspace, portal)     -> ALREADY_EXISTS
├── PollUnauthorized      an unknown poll token                            -> UNAUTHENTICATED
└── KeyEncryptionError    wrong or missing key-encryption secret (a startup failure, never a status)
"""

from __future__ import annotations


class SecurityEventsError(Exception):
    """Root of security-events' errors; the message is meant for the admin or receiver that caused it."""


class InvalidRequest(SecurityEventsError, ValueError):
    pass


class NotFound(SecurityEventsError, LookupError):
    pass


class AlreadyExists(SecurityEventsError):
    pass


class PollUnauthorized(SecurityEventsError):
    pass


class KeyEncryptionError(SecurityEventsError, ValueError):
    pass
