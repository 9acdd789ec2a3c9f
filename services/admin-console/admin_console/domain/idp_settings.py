"""What to paste into the identity provider, in the words of its own settings screens.

Okta: the product document's table (Provisioning → Integration). Entra ID: the provisioning blade's
Admin Credentials (Tenant URL, Secret Token); `?aadOptscim062020` opts into Entra's RFC-compliant PATCH
behaviour, which the suite supports either way.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKEN_ABOVE = "The Bearer token above"


@dataclass(frozen=True)
class Setting:
    field: str
    value: str


def okta_settings(base_url: str) -> list[Setting]:
    return [
        Setting("SCIM connector base URL", base_url),
        Setting("Unique identifier field for users", "userName"),
        Setting("Supported provisioning actions", "Push New Users, Push Profile Updates, Push Groups"),
        Setting("Authentication Mode", "HTTP Header"),
        Setting("Authorization (Bearer token)", TOKEN_ABOVE),
    ]


def entra_settings(base_url: str) -> list[Setting]:
    return [
        Setting("Provisioning Mode", "Automatic"),
        Setting("Tenant URL", f"{base_url}?aadOptscim062020"),
        Setting("Secret Token", TOKEN_ABOVE),
    ]
