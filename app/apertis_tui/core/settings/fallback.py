"""The ``[fallback]`` table: the default fallback models for every chat, checked and written.

    [fallback]
    models = ["gpt-4o-mini", "claude-3-5-haiku-20241022"]   # up to 5, tried in this order
    timeout = 30                                            # seconds, 5 to 300 (sent in ms)
    enabled = true

Every key is optional. The checks return sentences (``None`` when fine), as
``validation``'s do, so the file, the settings screen and a chat's own settings (f9) judge a
value the same way. A chat's own copy is stored with the chat (core.store.chats).
"""

from __future__ import annotations

from typing import Any

from ..text import one_line
from ..types import FALLBACK_TIMEOUT_RANGE, MAX_FALLBACK_MODELS, FallbackSettings

_MODEL_LIMIT = 200  # as a model id anywhere else (core.models)


def validate_fallback_models(value: Any, label: str = "fallback.models") -> str | None:
    if not isinstance(value, list) or not all(isinstance(m, str) and m.strip() for m in value):
        return f"{label} must be a list of model ids, such as [\"gpt-4o-mini\"]"
    if len(value) > MAX_FALLBACK_MODELS:
        return f"{label} can hold at most {MAX_FALLBACK_MODELS} models (it has {len(value)})"
    if any(len(m.strip()) > _MODEL_LIMIT or one_line(m, _MODEL_LIMIT + 1) != m.strip() for m in value):
        return f"{label} holds something that is not a model id (a line break, a control character, or too long)"
    return None


def validate_fallback_timeout(value: Any, label: str = "fallback.timeout") -> str | None:
    low, high = FALLBACK_TIMEOUT_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return f"{label} must be a number of seconds from {low} to {high}"
    return None


def read_fallback_table(table: Any) -> tuple[FallbackSettings, str | None, str | None]:
    """(the settings, the key with a problem, the sentence) for the ``[fallback]`` table;
    on a problem the settings are the defaults."""
    if not isinstance(table, dict):
        return FallbackSettings(), None, "fallback must be a table ([fallback])"
    defaults = FallbackSettings()
    models, timeout, enabled = table.get("models", []), table.get("timeout", defaults.timeout), table.get("enabled", True)
    for key, problem in (("models", validate_fallback_models(models)),
                         ("timeout", validate_fallback_timeout(timeout)),
                         ("enabled", None if isinstance(enabled, bool) else "fallback.enabled must be true or false")):
        if problem:
            return defaults, key, problem
    models = list(dict.fromkeys(m.strip() for m in models))  # the same model twice is tried once
    return FallbackSettings(enabled, tuple(models), float(timeout)), None, None


def fallback_table(fallback: FallbackSettings) -> dict[str, Any]:
    """The table as written (a whole timeout without ``.0``, as people write it)."""
    timeout = fallback.timeout
    return {"models": list(fallback.models), "timeout": int(timeout) if timeout == int(timeout) else timeout,
            "enabled": fallback.enabled}
