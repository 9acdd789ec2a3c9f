"""Which identity provider sent a request, as the provisioning log records it (the console's log and health).

The edge recognises the IdP of each request (scim_edge.scim.idp: headers, then body shape) and sends it with
the record; only a record from an older edge, which does not, is recognised here from its User-Agent.
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


def recorded_idp(edge_idp: str, user_agent: str) -> str:
    """The edge's recognition in this log's words (its `unknown` is `other`), or the User-Agent's."""
    if edge_idp in (OKTA, ENTRA):
        return edge_idp
    return OTHER if edge_idp else idp_from_user_agent(user_agent)
