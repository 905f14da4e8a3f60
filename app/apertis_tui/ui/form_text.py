"""Form text: a setting's value as a text field shows it, and what is typed back into a value.

Used by the settings screen and the per-chat settings dialog. An empty field means "unset" for
a sampling parameter and "the default" for a timeout. The checks themselves are the settings'
own (``core.settings.validation``), so a typed value is judged as one read from the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..core.settings.validation import RANGES, validate_param, validate_timeout, validate_usd


def param_text(name: str, value: Any) -> str:
    """A parameter's value as a form field shows it ("" when unset). Not for ``stop``."""
    if value is None:
        return ""
    return repr(float(value)) if name in RANGES else str(value)


def parse_param_text(name: str, text: str, label: str | None = None) -> tuple[Any, str | None]:
    """(value, problem) for a number typed into a parameter field; "" is unset (None)."""
    label = label or name
    text = text.strip()
    if not text:
        return None, None
    value: Any
    if name == "max_tokens":
        value = int(text) if re.fullmatch(r"\+?\d+", text) else text
    else:
        try:
            value = float(text)
        except ValueError:
            value = text
    problem = validate_param(name, value, label)
    return (None, problem) if problem else (value, None)


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}


def stop_text(sequence: str) -> str:
    """A stop sequence as one line: backslash, newline and tab written as \\\\, \\n, \\t."""
    return sequence.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def parse_stop_text(text: str) -> str:
    """The inverse of ``stop_text``; a backslash before any other character stays as typed."""
    return re.sub(r"\\([nt\\])", lambda m: _ESCAPES[m.group(1)], text)


def parse_stop_texts(texts: list[str], label: str = "stop") -> tuple[list[str] | None, str | None]:
    """(sequences, problem) from the stop fields; empty fields are skipped, none at all is unset."""
    sequences = [parse_stop_text(text) for text in texts if text]
    if not sequences:
        return None, None
    problem = validate_param("stop", sequences, label)
    return (None, problem) if problem else (sequences, None)


def timeout_text(value: float) -> str:
    return f"{value:g}"


def _parse_number(text: str, check: Callable[[Any, str], str | None], label: str) -> tuple[float | None, str | None]:
    """(value, problem) for a number typed into a field (not empty), judged by ``check``."""
    try:
        value: Any = float(text)
    except ValueError:
        value = text
    problem = check(value, label)
    return (None, problem) if problem else (float(value), None)


def parse_timeout_text(text: str, default: float, label: str = "timeout") -> tuple[float | None, str | None]:
    """(seconds, problem); an empty field is ``default``."""
    text = text.strip()
    return _parse_number(text, validate_timeout, label) if text else (default, None)


def usd_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def parse_usd_text(text: str, label: str = "amount") -> tuple[float | None, str | None]:
    """(dollars, problem); an empty field is None (off). A leading "$" is allowed."""
    text = text.strip().removeprefix("$").strip()
    return _parse_number(text, validate_usd, label) if text else (None, None)
