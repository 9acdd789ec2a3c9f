"""The guard's thresholds form: bad values are named per field and nothing is chosen (the old one stays)."""

from __future__ import annotations

from admin_console.domain.safeguards import MAX_WINDOW_MINUTES, parse_guard


def test_a_good_form_becomes_a_choice() -> None:
    choice, errors = parse_guard(
        {"enabled": "on", "max_actions": "50", "max_percent": "12.5 %", "window_minutes": "60"}
    )
    assert errors == {}
    assert choice is not None
    assert (choice.enabled, choice.max_actions, choice.max_percent, choice.window_seconds) == (
        True,
        50,
        12.5,
        3600,
    )


def test_an_unchecked_box_turns_the_guard_off_on_purpose() -> None:
    choice, _ = parse_guard({"max_actions": "1", "max_percent": "100", "window_minutes": "1"})
    assert choice is not None and choice.enabled is False


def test_nonsense_is_refused_field_by_field() -> None:
    for form, fields in (
        ({"max_actions": "-3", "max_percent": "150", "window_minutes": "60"}, {"max_actions", "max_percent"}),
        (
            {"max_actions": "0", "max_percent": "0", "window_minutes": "0"},
            {"max_actions", "max_percent", "window_minutes"},
        ),
        (
            {"max_actions": "ten", "max_percent": "nan", "window_minutes": str(MAX_WINDOW_MINUTES + 1)},
            {"max_actions", "max_percent", "window_minutes"},
        ),
        (
            {"max_actions": "5", "max_percent": "inf", "window_minutes": "1.5"},
            {"max_percent", "window_minutes"},
        ),
    ):
        choice, errors = parse_guard(form)
        assert choice is None and set(errors) == fields, form
