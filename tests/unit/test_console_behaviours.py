"""The Enable SCIM form offers exactly each portal's behaviours from the product document."""

from __future__ import annotations

from admin_console.domain.portals import ON_CREATE, ON_DEACTIVATE, parse_behaviour


def test_each_portal_offers_the_seed_behaviours() -> None:
    assert [o.value for o in ON_CREATE["store"]] == ["nothing", "employee"]
    assert [o.value for o in ON_CREATE["mdm"]] == ["nothing", "employee"]
    assert [o.value for o in ON_CREATE["dashboard"]] == ["nothing", "collaborator"]
    assert [o.value for o in ON_DEACTIVATE["store"]] == ["nothing", "remove"]
    assert [o.value for o in ON_DEACTIVATE["dashboard"]] == ["nothing", "remove"]
    assert [o.value for o in ON_DEACTIVATE["mdm"]] == [
        "nothing",
        "unassign-devices",
        "change-policy",
        "remove-user",
        "remove-user-and-devices",
    ]


def test_a_missing_or_foreign_choice_is_named_next_to_its_field() -> None:
    choice, errors = parse_behaviour("store", {"on_create": "collaborator"}, [])
    assert choice is None and set(errors) == {"on_create", "on_deactivate"}
    choice, errors = parse_behaviour(
        "dashboard", {"on_create": "collaborator", "default_role": "owner", "on_deactivate": "remove"}, []
    )
    assert choice is None and set(errors) == {"default_role"}


def test_change_policy_needs_an_existing_policy() -> None:
    form = {"on_create": "employee", "on_deactivate": "change-policy", "deactivate_policy": "Quarantine"}
    assert set(parse_behaviour("mdm", form, [])[1]) == {"deactivate_policy"}
    choice, errors = parse_behaviour("mdm", form, ["Quarantine"])
    assert errors == {} and choice is not None and choice.deactivate_policy == "Quarantine"
