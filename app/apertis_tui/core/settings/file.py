"""The settings and their file: the ``Settings`` dataclass, loading it, saving it, ``ConfigError``.

The settings file is ``$XDG_CONFIG_HOME/apertis-tui/config.toml`` on Linux (``paths.config_path()``;
platformdirs picks the usual place elsewhere). Every key is optional::

    api_key = "..."                  # better kept in APERTIS_API_KEY; written only if set here
    base_url = "https://api.stima.tech/v1"
    default_model = "gpt-4o-mini"
    system_prompt = "You are terse."
    stream = true
    theme = "textual-dark"
    user_agent = "my-client/1.0"     # for servers that filter clients; APERTIS_USER_AGENT overrides
    warn_below_usd = 1.0             # the status line warns when the key has less left
    web_results_count = 5            # web search (Apertis): results to read, 1 to 10
    web_content_length = "medium"    # web search: short, medium or full

    [params]                         # sampling parameters; absent = the server's default
    temperature = 0.7                # 0 to 2
    top_p = 1.0                      # 0 to 1
    max_tokens = 1024                # a positive whole number
    frequency_penalty = 0.0          # -2 to 2
    presence_penalty = 0.0           # -2 to 2
    stop = ["###"]                   # a string or a list of up to 4 strings

    [timeouts]                       # seconds
    connect = 10.0
    read = 60.0

    [fallback]                       # models the service tries when the one asked for fails
    models = ["gpt-4o-mini"]         # up to 5, in order
    timeout = 30                     # seconds, 5 to 300
    enabled = true
    [attachments]                    # files attached to a prompt (core.attachments)
    image_max_side = 2048            # pixels on an image's long side; larger ones are scaled down
    image_max_mb = 4                 # MB (MiB) an image may take; larger ones are re-encoded
    text_max_kb = 200                # KB (KiB) of text a file, or a folder in all, may send

Keys and tables this module does not know are kept in ``Settings.extra`` (same nesting as
the file) and written back by ``save_settings``. Saving is atomic (``atomic_write``), the
file is mode 0600, and a file that does not load is never overwritten unless the caller
asks for it (then the old one is kept as ``config.toml.bak``).

What overrides the file (flags, the environment) is ``resolve``'s business: a key from the
environment is never put into ``Settings``, so it is never written to disk.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import paths
from ..atomic import atomic_write
from ..attachments.limits import AttachmentLimits
from ..types import PARAM_NAMES, ChatParams, FallbackSettings
from .fallback import fallback_table, read_fallback_table
from .validation import (
    ATTACHMENT_RANGES,
    DEFAULT_MODEL,
    DEFAULT_THEME,
    DEFAULT_WEB_CONTENT_LENGTH,
    DEFAULT_WEB_RESULTS,
    normalize_base_url,
    normalize_param,
    validate_attachment_limit,
    validate_base_url,
    validate_param,
    validate_timeout,
    validate_usd,
    validate_user_agent,
    validate_web_content_length,
    validate_web_results_count,
)

_FIX = "Fix it or move it aside; it has not been changed."


@dataclass
class Settings:
    api_key: str | None = None
    base_url: str | None = None
    default_model: str = DEFAULT_MODEL
    system_prompt: str | None = None
    params: ChatParams = field(default_factory=ChatParams)
    stream: bool = True
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    theme: str = DEFAULT_THEME
    user_agent: str | None = None  # None: the app's own name and version
    warn_below_usd: float | None = None  # the balance under which the status line warns; None: never
    web_results_count: int = DEFAULT_WEB_RESULTS  # a web search's results (Apertis)
    web_content_length: str = DEFAULT_WEB_CONTENT_LENGTH  # and how much of each it reads
    fallback: FallbackSettings = field(default_factory=FallbackSettings)  # [fallback]: for every chat
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)
    extra: dict[str, Any] = field(default_factory=dict)


class ConfigError(Exception):
    """A settings problem, as a sentence for the user (``str(error)``).

    ``path`` is the file concerned (None for a bad flag or environment variable),
    ``line`` the 1-based line of the problem when known, ``key`` the dotted key.
    """

    def __init__(
        self, message: str, path: Path | None = None, line: int | None = None, key: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.key = key

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------
# Loading

_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]")


def _key_pattern(*parts: str) -> re.Pattern[str]:
    dotted = r"\s*\.\s*".join(rf"[\"']?{re.escape(p)}[\"']?" for p in parts)
    return re.compile(rf"^\s*{dotted}\s*=")


def _find_line(text: str, table: str | None, key: str) -> int | None:
    """Best effort: the line where ``key`` (in ``[table]``, or at the top) is set."""
    lines = text.splitlines()
    plain = _key_pattern(key)
    dotted = _key_pattern(table, key) if table else None
    current = ""
    for number, line in enumerate(lines, 1):
        header = _HEADER.match(line)
        if header:
            current = re.sub(r"[\"'\s]", "", header.group(1))
            continue
        if current == (table or "") and plain.match(line):
            return number
        if current == "" and dotted and dotted.match(line):
            return number
    if table:  # e.g. an inline table: params = { temperature = "hot" }
        return _find_line(text, None, table)
    return None


def _problem(path: Path, text: str, table: str | None, key: str, sentence: str) -> ConfigError:
    line = _find_line(text, table, key)
    where = f" (line {line})" if line else ""
    return ConfigError(
        f"The settings file {path} has a problem: {sentence}{where}. {_FIX}",
        path=path,
        line=line,
        key=f"{table}.{key}" if table else key,
    )


def _decode_error(path: Path, error: ValueError) -> ConfigError:  # a tomllib.TOMLDecodeError
    message = str(error)
    line = getattr(error, "lineno", None)  # Python 3.14 has .lineno/.colno; 3.11 only the text
    column = getattr(error, "colno", None)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if line is None and found:
        line, column = int(found.group(1)), int(found.group(2))
    reason = getattr(error, "msg", None) or re.sub(r"\s*\(at [^)]*\)\s*$", "", message)
    where = f"line {line}, column {column}: " if line else ""
    return ConfigError(
        f"The settings file {path} is not valid TOML ({where}{reason}). {_FIX}", path=path, line=line
    )


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file gives the defaults (and is not created)."""
    path = Path(path) if path is not None else paths.config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as error:
        raise ConfigError(
            f"The settings file {path} could not be read ({error.strerror or error}).", path=path
        ) from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"The settings file {path} is not UTF-8 text. {_FIX}", path=path) from error
    import tomllib  # only when there is a file: ~2 ms of the start otherwise

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _decode_error(path, error) from error
    return _from_document(data, path, text)


def _from_document(data: dict[str, Any], path: Path, text: str) -> Settings:
    extra = copy.deepcopy(data)
    settings = Settings()

    def check(table: str | None, key: str, sentence: str | None) -> None:
        if sentence:
            raise _problem(path, text, table, key, sentence)

    def is_text(value: Any, nonempty: bool = False) -> bool:
        return isinstance(value, str) and (bool(value.strip()) or not nonempty)

    for key, nonempty in (("api_key", False), ("default_model", True), ("system_prompt", False), ("theme", True)):
        if key in data:
            value = extra.pop(key)
            kind = "a non-empty string" if nonempty else "a string"
            check(None, key, None if is_text(value, nonempty) else f"{key} must be {kind}")
            setattr(settings, key, value)

    if "user_agent" in data:
        value = extra.pop("user_agent")
        check(None, "user_agent", validate_user_agent(value))
        settings.user_agent = value.strip()

    if "warn_below_usd" in data:
        value = extra.pop("warn_below_usd")
        check(None, "warn_below_usd", validate_usd(value, label="warn_below_usd"))
        settings.warn_below_usd = float(value)

    if "base_url" in data:
        value = extra.pop("base_url")
        check(None, "base_url", validate_base_url(value))
        settings.base_url = normalize_base_url(value)

    for key, validate in (("web_results_count", validate_web_results_count),
                          ("web_content_length", validate_web_content_length)):
        if key in data:
            value = extra.pop(key)
            check(None, key, validate(value))
            setattr(settings, key, value)

    if "stream" in data:
        value = extra.pop("stream")
        check(None, "stream", None if isinstance(value, bool) else "stream must be true or false")
        settings.stream = value

    if "params" in data:
        table = data["params"]
        check(None, "params", None if isinstance(table, dict) else "params must be a table ([params])")
        values = {}
        for name in PARAM_NAMES:
            if name in table:
                value = extra["params"].pop(name)
                check("params", name, validate_param(name, value, label=f"params.{name}"))
                values[name] = normalize_param(name, value)
        settings.params = ChatParams.from_dict(values)
        if not extra["params"]:
            del extra["params"]

    if "timeouts" in data:
        table = data["timeouts"]
        check(None, "timeouts", None if isinstance(table, dict) else "timeouts must be a table ([timeouts])")
        for name, attribute in (("connect", "connect_timeout"), ("read", "read_timeout")):
            if name in table:
                value = extra["timeouts"].pop(name)
                check("timeouts", name, validate_timeout(value, label=f"timeouts.{name}"))
                setattr(settings, attribute, float(value))
        if not extra["timeouts"]:
            del extra["timeouts"]

    if "fallback" in data:
        settings.fallback, key, problem = read_fallback_table(data["fallback"])
        check("fallback" if key else None, key or "fallback", problem)
        for key in ("models", "timeout", "enabled"):
            extra["fallback"].pop(key, None)
        if not extra["fallback"]:
            del extra["fallback"]

    if "attachments" in data:
        table = data["attachments"]
        check(None, "attachments", None if isinstance(table, dict) else "attachments must be a table ([attachments])")
        limits = {}
        for name in ATTACHMENT_RANGES:
            if name in table:
                value = extra["attachments"].pop(name)
                check("attachments", name, validate_attachment_limit(name, value, label=f"attachments.{name}"))
                limits[name] = float(value) if name == "image_max_mb" else int(value)
        settings.attachments = AttachmentLimits(**limits)
        if not extra["attachments"]:
            del extra["attachments"]

    settings.extra = extra
    return settings


# ---------------------------------------------------------------------------
# Saving


def _to_document(settings: Settings) -> dict[str, Any]:
    extra = copy.deepcopy(settings.extra)
    doc: dict[str, Any] = {}
    if settings.api_key:  # never write an empty key (nor one that came from the environment)
        doc["api_key"] = settings.api_key
    for key in ("base_url", "default_model", "system_prompt", "user_agent", "warn_below_usd"):
        if getattr(settings, key) is not None:
            doc[key] = getattr(settings, key)
    doc["stream"] = settings.stream
    doc["theme"] = settings.theme
    doc["web_results_count"] = settings.web_results_count
    doc["web_content_length"] = settings.web_content_length
    for key, value in extra.items():
        if key not in ("params", "timeouts", "fallback", "attachments") and key not in doc:
            doc[key] = value
    params = settings.params.as_dict()
    if "stop" in params:
        params["stop"] = list(params["stop"])
        if not params["stop"]:
            del params["stop"]
    doc["params"] = {**extra.get("params", {}), **params}
    if not doc["params"]:
        del doc["params"]
    doc["timeouts"] = {
        **extra.get("timeouts", {}),
        "connect": settings.connect_timeout,
        "read": settings.read_timeout,
    }
    own = fallback_table(settings.fallback) if settings.fallback != FallbackSettings() else {}
    if own or extra.get("fallback"):
        doc["fallback"] = {**extra.get("fallback", {}), **own}
    defaults = AttachmentLimits()
    limits = {name: getattr(settings.attachments, name) for name in ATTACHMENT_RANGES
              if getattr(settings.attachments, name) != getattr(defaults, name)}  # only what differs
    if limits or extra.get("attachments"):
        doc["attachments"] = {**extra.get("attachments", {}), **limits}
    return doc


def _backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def save_settings(settings: Settings, path: Path | None = None, *, replace_invalid: bool = False) -> None:
    """Write ``settings`` (plus ``settings.extra``) atomically, mode 0600.

    Refuses (ConfigError) to write over a file that does not load, unless
    ``replace_invalid``; then the old file is first copied to ``<name>.bak``.
    """
    import tomli_w

    path = Path(path) if path is not None else paths.config_path()
    data = tomli_w.dumps(_to_document(settings)).encode("utf-8")
    try:
        if path.exists():
            try:
                load_settings(path)
            except ConfigError as problem:
                if not replace_invalid:
                    raise ConfigError(
                        f"{problem} The new settings were not saved over it.",
                        path=path,
                        line=problem.line,
                        key=problem.key,
                    ) from problem
                atomic_write(_backup_path(path), path.read_bytes())
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as error:
        raise ConfigError(
            f"The settings could not be saved to {path} ({error.strerror or error}).", path=path
        ) from error

