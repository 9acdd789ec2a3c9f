"""The edge's metric route templates name the SET receivers' endpoints without their stream ids."""

from __future__ import annotations

from scim_edge.http.observability import UNMATCHED, route_template


def test_set_endpoints_have_bounded_route_templates() -> None:
    assert route_template("/scim-events/poll") == "/scim-events/poll"
    sid = "8e5eba58-8d78-45c7-8ac3-51161fee0002"
    assert (
        route_template(f"/scim-events/streams/{sid}/jwks.json")
        == "/scim-events/streams/{stream_id}/jwks.json"
    )
    assert route_template(f"/scim-events/streams/{sid}/other") == UNMATCHED
    assert route_template("/scim-events") == UNMATCHED
