"""Recognising the identity provider behind a request, for the `auto` profile and for metrics and logs.

Okta documents its User-Agent (`Okta SCIM Client 1.0.0`; its SPEC test sends `OKTA SCIM Integration`,
idp-clients §1.2, §1.11). Entra documents none, and its Test Connection may send no User-Agent at all
(§0, §2.2), so Entra is also recognised by what only it sends: the `aadOptscim062020` /
`AzureAdScimPatch2017` flags on the tenant URL (§2.9), the `ADSCIMVersion` header (§2.3) and the
Microsoft ADSCIM schema URI on groups (§2.8). Title-case PATCH ops (`Replace`) are Entra's too, but other
clients send them as well, so they are not taken as proof. A request that shows none of these is
`unknown`. The values form a closed set, so they are safe as a metric label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OKTA, ENTRA, UNKNOWN = "okta", "entra", "unknown"
_ENTRA_AGENTS = ("azure", "microsoft", "entra", "aad")
_ENTRA_FLAGS = frozenset({"aadoptscim062020", "azureadscimpatch2017"})
_ENTRA_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def from_request(headers: Mapping[str, str], query_keys: Any) -> str:
    """The IdP named by the User-Agent, Entra's URL flags or header; `unknown` otherwise."""
    agent = headers.get("User-Agent", "").lower()
    if "okta" in agent:
        return OKTA
    if any(word in agent for word in _ENTRA_AGENTS) or "ADSCIMVersion" in headers:
        return ENTRA
    if any(str(k).lower() in _ENTRA_FLAGS for k in query_keys):
        return ENTRA
    return UNKNOWN


def from_body(body: Any) -> str:
    """The IdP a request body's shape gives away (Entra's group schema)."""
    if not isinstance(body, dict):
        return UNKNOWN
    schemas = body.get("schemas")
    if isinstance(schemas, list) and _ENTRA_SCHEMA in schemas:
        return ENTRA
    return UNKNOWN


def refine(known: str, body: Any) -> str:
    """`known` unless it is `unknown`, in which case what the body shows."""
    return known if known != UNKNOWN else from_body(body)
