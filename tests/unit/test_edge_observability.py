"""The edge names spans and series by route template, never by raw path (tenant and resource ids)."""

from __future__ import annotations

import pytest
from scim_edge.http.observability import route_template

P = "/scim/v2/{connection_id}"


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/scim/v2/3f1c", P),
        ("/scim/v2/3f1c/Users", f"{P}/Users"),
        (
            "/scim/v2/3f1c/users/",
            f"{P}/Users",
        ),  # resource names are case-insensitive, a trailing slash is fine
        ("/scim/v2/3f1c/Users/8d0e-42", f"{P}/Users/{{id}}"),
        ("/scim/v2/3f1c/Groups/.search", f"{P}/Groups/.search"),
        ("/scim/v2/3f1c/Bulk", f"{P}/Bulk"),
        ("/scim/v2/3f1c/ServiceProviderConfig", f"{P}/ServiceProviderConfig"),
        ("/scim/v2/3f1c/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", f"{P}/Schemas/{{id}}"),
        ("/scim/v2/3f1c/ResourceTypes/User", f"{P}/ResourceTypes/{{id}}"),
        ("/scim/v2/3f1c/Me", f"{P}/Me"),
        ("/healthz", "/healthz"),
        ("/metrics", "/metrics"),
        # Anything else collapses into one series, so scanners cannot blow up the series count.
        ("/scim/v2/3f1c/Users/1/extra", "unmatched"),
        ("/scim/v2/3f1c/Bulk/7", "unmatched"),
        ("/scim/v2/3f1c/wp-admin", "unmatched"),
        ("/.env", "unmatched"),
        ("/", "unmatched"),
    ],
)
def test_route_template(path: str, template: str) -> None:
    assert route_template(path) == template
