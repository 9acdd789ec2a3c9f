"""The add-receiver form: push needs an endpoint URL, event filters must be URIs, poll needs neither."""

from __future__ import annotations

from admin_console.domain.receivers import parse_receiver


def test_push_needs_an_endpoint_and_keeps_its_authorization() -> None:
    choice, errors = parse_receiver(
        {"delivery": "push", "endpoint_url": "https://rx.example/sets", "authorization": " Bearer x "}
    )
    assert errors == {} and choice is not None
    assert (choice.endpoint_url, choice.authorization, choice.events) == (
        "https://rx.example/sets",
        "Bearer x",
        (),
    )
    _, errors = parse_receiver({"delivery": "push", "endpoint_url": "rx.example/sets"})
    assert set(errors) == {"endpoint_url"}


def test_poll_drops_push_fields_and_events_must_be_uris() -> None:
    event = "urn:ietf:params:scim:event:prov:create:full"
    choice, errors = parse_receiver(
        {"delivery": "poll", "endpoint_url": "https://ignored", "authorization": "s", "events": f" {event} "}
    )
    assert errors == {} and choice is not None
    assert (choice.endpoint_url, choice.authorization, choice.events) == ("", "", (event,))
    _, errors = parse_receiver({"delivery": "carrier-pigeon", "events": "create"})
    assert set(errors) == {"delivery", "events"}
