"""SCIM protocol errors, one class per RFC 7644 §3.12 `scimType`, each carrying its HTTP status.

ScimError                      (status, scimType, detail)
├── InvalidFilter        400 invalidFilter
├── TooMany              400 tooMany
├── Uniqueness           409 uniqueness
├── Mutability           400 mutability
├── InvalidSyntax        400 invalidSyntax
├── InvalidPath          400 invalidPath
├── NoTarget             400 noTarget
├── InvalidValue         400 invalidValue
├── InvalidVersion       400 invalidVers
├── Sensitive            403 sensitive
├── InvalidCursor        400 invalidCursor   (RFC 9865 §3.2)
├── ExpiredCursor        400 expiredCursor   (RFC 9865 §3.2)
├── Unauthorized         401
├── Forbidden            403
├── NotFound             404
├── MethodNotAllowed     405
├── Conflict             409
├── PreconditionFailed   412
├── PayloadTooLarge      413
├── UnsupportedMedia     415
├── TooManyRequests      429
├── NotImplementedByUs   501
└── Unavailable          503
    └── GatewayTimeout   504 (an upstream call ran out of time; retried like a 503)
"""

from __future__ import annotations

from typing import Any, ClassVar

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    """Base of every error that is rendered to a SCIM client as an RFC 7644 §3.12 body."""

    status: ClassVar[int] = 500
    scim_type: ClassVar[str | None] = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def to_error(self) -> dict[str, Any]:
        """The RFC 7644 §3.12 error body. `status` is a string, as the RFC's examples show."""
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


class InvalidFilter(ScimError):
    status, scim_type = 400, "invalidFilter"


class TooMany(ScimError):
    status, scim_type = 400, "tooMany"


class Uniqueness(ScimError):
    status, scim_type = 409, "uniqueness"


class Mutability(ScimError):
    status, scim_type = 400, "mutability"


class InvalidSyntax(ScimError):
    status, scim_type = 400, "invalidSyntax"


class InvalidPath(ScimError):
    status, scim_type = 400, "invalidPath"


class NoTarget(ScimError):
    status, scim_type = 400, "noTarget"


class InvalidValue(ScimError):
    status, scim_type = 400, "invalidValue"


class InvalidVersion(ScimError):
    status, scim_type = 400, "invalidVers"  # RFC 7644 §3.12 spells it so


class Sensitive(ScimError):
    status, scim_type = 403, "sensitive"


class InvalidCursor(ScimError):
    status, scim_type = 400, "invalidCursor"


class ExpiredCursor(ScimError):
    status, scim_type = 400, "expiredCursor"


class Unauthorized(ScimError):
    status = 401


class Forbidden(ScimError):
    status = 403


class NotFound(ScimError):
    status = 404


class MethodNotAllowed(ScimError):
    status = 405


class Conflict(ScimError):
    status = 409


class PreconditionFailed(ScimError):
    status = 412


class PayloadTooLarge(ScimError):
    status = 413


class UnsupportedMedia(ScimError):
    status = 415


class TooManyRequests(ScimError):
    status = 429


class NotImplementedByUs(ScimError):
    status = 501


class Unavailable(ScimError):
    status = 503


class GatewayTimeout(Unavailable):
    status = 504


class InternalError(ScimError):
    status = 500


_BY_STATUS_AND_TYPE: dict[tuple[int, str | None], type[ScimError]] = {}


def _register(cls: type[ScimError]) -> None:
    _BY_STATUS_AND_TYPE.setdefault((cls.status, cls.scim_type), cls)
    for sub in cls.__subclasses__():
        _register(sub)


for _cls in ScimError.__subclasses__():
    _register(_cls)


def error_from(status: int, scim_type: str | None, detail: str) -> ScimError:
    """Rebuild a typed error from its wire parts (used by the edge on a directory error detail)."""
    cls = _BY_STATUS_AND_TYPE.get((status, scim_type or None))
    if cls is None:
        cls = _BY_STATUS_AND_TYPE.get((status, None), InternalError)
    return cls(detail)
