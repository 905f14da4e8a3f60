"""Apertis's fallback models: what a response's headers say about who answered.

When the model asked for fails (or is slower than ``fallback_timeout``), the service answers
with the next of ``fallback_models`` and says so in headers::

    X-Fallback-Used: true
    X-Actual-Model: the model that wrote the answer
    X-Fallback-From: the model that failed
    X-Fallback-Reason: why, in the service's words

Header values are server text: they are cleaned (controls, bidi overrides, line breaks) and
cut to a length a label can hold before anything shows or stores them. What is sent is
``FallbackSettings.as_request()`` (core.types).
"""

from __future__ import annotations

from collections.abc import Mapping

from .events import FallbackUsed
from .text import one_line

_MODEL_LIMIT = 200  # as the model list's ids (core.models)
_REASON_LIMIT = 300
_YES = {"true", "1", "yes"}


def _header(headers: Mapping[str, str], name: str, limit: int) -> str:
    value = headers.get(name)
    return one_line(value, limit).strip() if isinstance(value, str) else ""


def fallback_used(headers: Mapping[str, str], requested: str) -> FallbackUsed | None:
    """What the headers say when a fallback answered; None when none did (or they do not say).

    ``requested`` stands for the failed model when the server does not name it. A server that
    names the requested model itself as the actual one did not fall back, whatever it says.
    """
    if _header(headers, "x-fallback-used", 10).lower() not in _YES:
        return None
    actual = _header(headers, "x-actual-model", _MODEL_LIMIT) or None
    failed = _header(headers, "x-fallback-from", _MODEL_LIMIT) or requested
    if actual is not None and actual == requested:
        return None
    return FallbackUsed(actual, failed, _header(headers, "x-fallback-reason", _REASON_LIMIT))
