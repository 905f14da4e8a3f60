"""The form-text helpers of the settings screens (ui.form_text), and the key check they use."""

from __future__ import annotations

import pytest

from apertis_tui.core.settings.validation import validate_api_key
from apertis_tui.ui.form_text import (
    param_text,
    parse_param_text,
    parse_stop_text,
    parse_stop_texts,
    parse_timeout_text,
    stop_text,
    timeout_text,
)


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("temperature", "0.3", 0.3),
        ("temperature", " 2 ", 2.0),
        ("temperature", "0", 0.0),
        ("top_p", "1", 1.0),
        ("top_p", ".95", 0.95),
        ("max_tokens", "1024", 1024),
        ("max_tokens", "+5", 5),
        ("frequency_penalty", "-2", -2.0),
        ("presence_penalty", "1.5", 1.5),
        ("temperature", "", None),
        ("max_tokens", "   ", None),
    ],
)
def test_parse_param_text_accepts(name: str, text: str, value: object) -> None:
    parsed, problem = parse_param_text(name, text)
    assert problem is None
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("name", "text", "sentence"),
    [
        ("temperature", "2.1", "Temperature must be a number from 0 to 2"),
        ("temperature", "-0.1", "Temperature must be a number from 0 to 2"),
        ("temperature", "hot", "Temperature must be a number from 0 to 2"),
        ("temperature", "nan", "Temperature must be a number from 0 to 2"),
        ("temperature", "inf", "Temperature must be a number from 0 to 2"),
        ("top_p", "1.01", "Temperature must be a number from 0 to 1"),
        ("max_tokens", "0", "Temperature must be a whole number greater than 0"),
        ("max_tokens", "-3", "Temperature must be a whole number greater than 0"),
        ("max_tokens", "1.5", "Temperature must be a whole number greater than 0"),
        ("max_tokens", "1e3", "Temperature must be a whole number greater than 0"),
        ("frequency_penalty", "-2.5", "Temperature must be a number from -2 to 2"),
        ("presence_penalty", "3", "Temperature must be a number from -2 to 2"),
    ],
)
def test_parse_param_text_refuses_with_a_sentence(name: str, text: str, sentence: str) -> None:
    value, problem = parse_param_text(name, text, "Temperature")  # the label is the caller's
    assert value is None
    assert problem == sentence


def test_param_text_round_trips() -> None:
    for name, value in (("temperature", 0.3), ("top_p", 1.0), ("max_tokens", 256), ("presence_penalty", -1.25)):
        assert parse_param_text(name, param_text(name, value)) == (value, None)
    assert param_text("temperature", None) == ""
    assert param_text("temperature", 1) == "1.0"


@pytest.mark.parametrize("sequence", ["###", "\n\n", "a\tb", "back\\slash", "\\n literally", "END\n"])
def test_stop_text_round_trips_and_is_one_line(sequence: str) -> None:
    shown = stop_text(sequence)
    assert "\n" not in shown and "\t" not in shown
    assert parse_stop_text(shown) == sequence


def test_parse_stop_text_keeps_unknown_escapes() -> None:
    assert parse_stop_text("\\n\\t\\\\") == "\n\t\\"
    assert parse_stop_text("a\\xb") == "a\\xb"


def test_parse_stop_texts() -> None:
    assert parse_stop_texts(["", "", "", ""]) == (None, None)
    assert parse_stop_texts(["###", "", "\\n\\n", ""]) == (["###", "\n\n"], None)
    assert parse_stop_texts([" "]) == ([" "], None)  # whitespace can be a stop sequence
    value, problem = parse_stop_texts(["a", "b", "c", "d", "e"], "Stop sequences")
    assert value is None and problem == "Stop sequences can hold at most 4 strings"


def test_parse_timeout_text() -> None:
    assert parse_timeout_text("", 10.0) == (10.0, None)
    assert parse_timeout_text(" 2.5 ", 10.0) == (2.5, None)
    assert parse_timeout_text("0", 10.0, "The read timeout") == (
        None, "The read timeout must be a number of seconds greater than 0")
    assert parse_timeout_text("soon", 10.0)[1] == "timeout must be a number of seconds greater than 0"
    assert timeout_text(10.0) == "10" and timeout_text(0.5) == "0.5"


@pytest.mark.parametrize(
    ("key", "ok"),
    [("", True), ("sk-abc123_XYZ.-", True), ("sk abc", False), ("sk-\tab", False), ("sk-é", False),
     ("sk-\x1b[2J", False)],
)
def test_validate_api_key(key: str, ok: bool) -> None:
    problem = validate_api_key(key)
    assert (problem is None) is ok
    if not ok:
        assert key not in problem  # the key itself is never repeated
