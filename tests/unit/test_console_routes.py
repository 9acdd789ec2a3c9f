"""The console's request series are keyed by route template: ids never become series of their own."""

from __future__ import annotations

from admin_console.entrypoints.http.observability import UNMATCHED, route_template


def test_ids_become_placeholders() -> None:
    ws = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert route_template(f"/workspaces/{ws}/store/people/{ws}") == "/workspaces/{id}/store/people/{id}"
    assert route_template(f"/workspaces/{ws}/mdm/log/12345") == "/workspaces/{id}/mdm/log/{id}"
    assert route_template("/workspaces") == "/workspaces"
    assert route_template("/static/console.css") == "/static/{file}"
    assert route_template("/readyz") == "/readyz"  # operational routes keep their path (and are not logged)


def test_anything_else_is_unmatched() -> None:
    assert route_template("/no/such/page") == UNMATCHED
    assert route_template("/workspaces/not-an-id/store") == UNMATCHED


def test_safeguard_pages_have_templates() -> None:
    ws = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert route_template(f"/workspaces/{ws}/store/guard/release") == "/workspaces/{id}/store/guard/release"
    assert route_template(f"/workspaces/{ws}/mdm/drift/repair") == "/workspaces/{id}/mdm/drift/repair"
    assert (
        route_template(f"/workspaces/{ws}/mdm/people/{ws}/preview")
        == "/workspaces/{id}/mdm/people/{id}/preview"
    )
