"""Which connection setting applies, and where it came from.

Flag over environment over file over default, as users of CLIs expect. The key, the base URL
and the user agent are resolved together into a ``Connection``: once at start-up (the command
line calls ``resolve_connection``) and again when the settings are saved (``Connection.edited``).
Each value is kept with its source (``Resolved``), so what shows it (the settings screen) reads
the source instead of working it out again.

Sources: ``"flag"``; the name of the environment variable (``"APERTIS_API_KEY"``,
``"STIMA_API_KEY"``, ``"APERTIS_BASE_URL"``, ``"APERTIS_USER_AGENT"``); ``"config"`` (the
settings file, or what was typed on the settings screen and saved there); ``"default"``; and
``"none"`` for a key found nowhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from .file import ConfigError, Settings
from .validation import DEFAULT_BASE_URL, normalize_base_url, validate_base_url, validate_user_agent


class Resolved(NamedTuple):  # read "Resolved[str]" as its value's type (Generic cost start-up time)
    """A setting's value in force and where it came from (a tuple: ``value, source = ...``)."""

    value: Any
    source: str


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def resolve_api_key(settings: Settings, env: Mapping[str, str] = os.environ) -> Resolved[str | None]:
    """Source: "APERTIS_API_KEY", "STIMA_API_KEY", "config" or "none"."""
    for name in ("APERTIS_API_KEY", "STIMA_API_KEY"):
        key = _clean(env.get(name))
        if key:
            return Resolved(key, name)
    key = _clean(settings.api_key)
    if key:
        return Resolved(key, "config")
    return Resolved(None, "none")


def resolve_base_url(
    flag: str | None, settings: Settings, env: Mapping[str, str] = os.environ
) -> Resolved[str]:
    """Source: "flag", "APERTIS_BASE_URL", "config" or "default".

    Raises ConfigError when the chosen value is not an http(s) address.
    """
    for value, source, label in (
        (flag, "flag", "--base-url"),
        (env.get("APERTIS_BASE_URL"), "APERTIS_BASE_URL", "APERTIS_BASE_URL"),
        (settings.base_url, "config", "base_url in the settings file"),
    ):
        value = _clean(value)
        if value:
            problem = validate_base_url(value, label=label)
            if problem:
                raise ConfigError(f"{problem}.", key=label)
            return Resolved(normalize_base_url(value), source)
    return Resolved(DEFAULT_BASE_URL, "default")


def resolve_user_agent(settings: Settings, env: Mapping[str, str] = os.environ) -> Resolved[str | None]:
    """None means the app's own. Source: "APERTIS_USER_AGENT", "config" or "default".

    A value from the environment that cannot be sent as a header is ignored (the file's is
    checked when it is loaded)."""
    value = _clean(env.get("APERTIS_USER_AGENT"))
    if value and validate_user_agent(value) is None:
        return Resolved(value, "APERTIS_USER_AGENT")
    value = _clean(settings.user_agent)
    if value:
        return Resolved(value, "config")
    return Resolved(None, "default")


class Connection(NamedTuple):
    """How to reach the server, each part with its source."""

    api_key: Resolved[str | None]
    base_url: Resolved[str]
    user_agent: Resolved[str | None]  # value None: the app's own

    def edited(self, settings: Settings, env: Mapping[str, str], *, key_typed: bool,
               base_url_typed: bool) -> Connection:
        """The connection once ``settings``, edited on the settings screen, are saved.

        What the user typed applies at once, even over the environment, for this session
        (at the next start the environment comes first again); an emptied key field lets
        the environment's key apply, an emptied base URL field the default; a field left
        alone keeps what applied, a flag's value included.
        """
        api_key = self.api_key
        if key_typed:
            api_key = Resolved(settings.api_key, "config") if settings.api_key else resolve_api_key(settings, env)
        base_url = self.base_url
        if base_url_typed:
            base_url = Resolved(settings.base_url, "config") if settings.base_url else Resolved(DEFAULT_BASE_URL, "default")
        return Connection(api_key, base_url, resolve_user_agent(settings, env))


def resolve_connection(settings: Settings, env: Mapping[str, str] = os.environ, *,
                       base_url_flag: str | None = None) -> Connection:
    """The connection at start-up. Raises ConfigError when the base URL chosen is not valid."""
    return Connection(
        resolve_api_key(settings, env),
        resolve_base_url(base_url_flag, settings, env),
        resolve_user_agent(settings, env),
    )
