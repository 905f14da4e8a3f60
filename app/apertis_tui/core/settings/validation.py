"""What each setting may hold: the defaults, the ranges, and a check per kind of value.

Each ``validate_*`` returns None when the value is fine, else a sentence naming ``label`` and
what is expected. Loading the file, resolving flags and the environment, and the settings
screens all check through these, so a value is judged the same way wherever it comes from.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://api.stima.tech/v1"
#: The service's two addresses (the seed's, and the one its current docs use): one service.
APERTIS_BASE_URLS = (DEFAULT_BASE_URL, "https://api.apertis.ai/v1")
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_THEME = "textual-dark"

# The sampling parameters that are numbers in a range (max_tokens and stop are not).
RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
}
MAX_STOP_SEQUENCES = 4


def _is_number(value: Any) -> bool:
    """ints and floats, not bools, not NaN or infinity."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_param(name: str, value: Any, label: str | None = None) -> str | None:
    """Check one sampling parameter (``name`` from ``PARAM_NAMES``). ``None`` (unset) is fine."""
    label = label or name
    if value is None:
        return None
    if name in RANGES:
        low, high = RANGES[name]
        if not _is_number(value) or not low <= value <= high:
            return f"{label} must be a number from {low:g} to {high:g}"
        return None
    if name == "max_tokens":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"{label} must be a whole number greater than 0"
        return None
    if name == "stop":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items):
            return f"{label} must be a string or a list of up to {MAX_STOP_SEQUENCES} non-empty strings"
        if len(items) > MAX_STOP_SEQUENCES:
            return f"{label} can hold at most {MAX_STOP_SEQUENCES} strings"
        return None
    raise KeyError(f"unknown parameter {name!r}")


def normalize_param(name: str, value: Any) -> Any:
    """A valid value in the type ChatParams holds (ints become floats, a stop string a list)."""
    if name in RANGES:
        return float(value)
    if name == "stop":
        items = [value] if isinstance(value, str) else list(value)
        return items or None
    return value


# ``[attachments]``: (lowest, highest, whole numbers only) for each limit.
ATTACHMENT_RANGES: dict[str, tuple[float, float, bool]] = {
    "image_max_side": (64, 16384, True),  # pixels
    "image_max_mb": (0.05, 100, False),  # MiB
    "text_max_kb": (1, 102400, True),  # KiB
}


def validate_attachment_limit(name: str, value: Any, label: str | None = None) -> str | None:
    """One of the attachment limits (``ATTACHMENT_RANGES``)."""
    label = label or name
    low, high, whole = ATTACHMENT_RANGES[name]
    if not _is_number(value) or (whole and not float(value).is_integer()) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        return f"{label} must be {kind} from {low:g} to {high:g}"
    return None


def validate_timeout(value: Any, label: str = "timeout") -> str | None:
    if not _is_number(value) or value <= 0:
        return f"{label} must be a number of seconds greater than 0"
    return None


def validate_base_url(value: Any, label: str = "base_url") -> str | None:
    if isinstance(value, str):
        text = value.strip()
        try:
            parts = urlsplit(text)
            parts.port  # raises ValueError on a bad port
        except ValueError:
            parts = None
        if (
            parts is not None
            and parts.scheme in ("http", "https")
            and parts.hostname
            and not re.search(r"\s", text)
        ):
            return None
    return f"{label} must be an http:// or https:// address, such as {DEFAULT_BASE_URL}"


def normalize_base_url(url: str) -> str:
    return url.strip().rstrip("/")


def validate_usd(value: Any, label: str = "amount") -> str | None:
    """An amount of US dollars: a number, 0 or more."""
    if not _is_number(value) or value < 0:
        return f"{label} must be an amount in US dollars, 0 or more (such as 1.5)"
    return None


def other_base_url(url: str, pair: tuple[str, str] = APERTIS_BASE_URLS) -> str | None:
    """The other address of the same service when ``url`` is one of ``pair``, else None."""
    first, second = (normalize_base_url(u) for u in pair)
    url = normalize_base_url(url)
    return second if url == first else first if url == second else None


def validate_user_agent(value: Any, label: str = "user_agent") -> str | None:
    """An HTTP header value: printable ASCII (httpx cannot send anything else)."""
    if not isinstance(value, str) or not value.strip():
        return f"{label} must be a non-empty string"
    if not (value.isascii() and value.isprintable()):
        return f"{label} may hold only printable ASCII characters"
    return None


def validate_api_key(value: str, label: str = "API key") -> str | None:
    """An empty key is fine (none set); otherwise it must be sendable in an HTTP header."""
    if not value:
        return None
    if not value.isascii() or not value.isprintable() or re.search(r"\s", value):
        return f"{label} can hold only plain ASCII letters, digits and symbols, without spaces"
    return None


WEB_RESULTS_RANGE = (1, 10)
WEB_CONTENT_LENGTHS = ("short", "medium", "full")
DEFAULT_WEB_RESULTS = 5  # the service's own defaults
DEFAULT_WEB_CONTENT_LENGTH = "medium"


def validate_web_results_count(value: Any, label: str = "web_results_count") -> str | None:
    """How many results a web search retrieves (Apertis): a whole number from 1 to 10."""
    low, high = WEB_RESULTS_RANGE
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return f"{label} must be a whole number from {low} to {high}"
    return None


def validate_web_content_length(value: Any, label: str = "web_content_length") -> str | None:
    """How much of each result a web search reads (Apertis): short, medium or full."""
    if value not in WEB_CONTENT_LENGTHS:
        return f"{label} must be one of {', '.join(WEB_CONTENT_LENGTHS)}"
    return None
