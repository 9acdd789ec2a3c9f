"""Which identity provider sent a request, from its User-Agent (shown in the console's log and health).

Okta documents `Okta SCIM Client 1.0.0` (and its SPEC runner sends `OKTA SCIM Integration`); Entra's
provisioning service sends `Microsoft.Identity.Provisioning` or `Microsoft Azure ...`. Test calls of
both have been seen without any User-Agent, which counts as "other".
"""

from __future__ import annotations

OKTA = "okta"
ENTRA = "entra"
OTHER = "other"


def idp_from_user_agent(user_agent: str) -> str:
    ua = user_agent.lower()
    if "okta" in ua:
        return OKTA
    if "microsoft" in ua or "azure" in ua or "entra" in ua:
        return ENTRA
    return OTHER
