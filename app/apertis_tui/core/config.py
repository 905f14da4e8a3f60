"""Settings: where they live, how they are read and written, and what overrides them.

The settings file is ``$XDG_CONFIG_HOME/apertis-tui/config.toml`` on Linux (``config_path()``;
platformdirs picks the usual place elsewhere). Every key is optional::

    api_key = "..."                  # better kept in APERTIS_API_KEY; written only if set here
    base_url = "https://api.stima.tech/v1"
    default_model = "gpt-4o-mini"
    system_prompt = "You are terse."
    stream = true
    theme = "textual-dark"
    user_agent = "my-client/1.0"     # for servers that filter clients; APERTIS_USER_AGENT overrides

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

Keys and tables this module does not know are kept in ``Settings.extra`` (same nesting as
the file) and written back by ``save_settings``. Saving is atomic (temp file, fsync,
rename), the file is mode 0600, and a file that does not load is never overwritten unless
the caller asks for it (then the old one is kept as ``config.toml.bak``).

Precedence: command-line flag, then environment, then the file, then the default
(``resolve_api_key``, ``resolve_base_url``). A key from the environment is never put into
``Settings``, so it is never written to disk.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from .types import PARAM_NAMES, ChatParams

APP_NAME = "apertis-tui"
DEFAULT_BASE_URL = "https://api.stima.tech/v1"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_THEME = "textual-dark"

_FIX = "Fix it or move it aside; it has not been changed."


# ---------------------------------------------------------------------------
# Paths


def config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "config.toml"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """Logs go here."""
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """The model list cache goes here."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return data_dir() / "history.db"


def session_path(db_path: Path) -> Path:
    """Where the open chats of the history at ``db_path`` are remembered (one file per history)."""
    try:  # CPython's own SHA-1: importing hashlib loads OpenSSL, ~1 ms of the start
        from _sha1 import sha1
    except ImportError:
        from hashlib import sha1
    digest = sha1(str(Path(db_path).resolve()).encode()).hexdigest()[:12]
    return state_dir() / f"session-{digest}.json"


# ---------------------------------------------------------------------------
# Settings and errors


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
# Validators (the settings screen reuses these). Each returns None when the value
# is fine, else a sentence naming ``label`` and what is expected.

_RANGES: dict[str, tuple[float, float]] = {
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
    if name in _RANGES:
        low, high = _RANGES[name]
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


def validate_user_agent(value: Any, label: str = "user_agent") -> str | None:
    """An HTTP header value: printable ASCII (httpx cannot send anything else)."""
    if not isinstance(value, str) or not value.strip():
        return f"{label} must be a non-empty string"
    if not (value.isascii() and value.isprintable()):
        return f"{label} may hold only printable ASCII characters"
    return None


def normalize_base_url(url: str) -> str:
    return url.strip().rstrip("/")


def validate_api_key(value: str, label: str = "API key") -> str | None:
    """An empty key is fine (none set); otherwise it must be sendable in an HTTP header."""
    if not value:
        return None
    if not value.isascii() or not value.isprintable() or re.search(r"\s", value):
        return f"{label} can hold only plain ASCII letters, digits and symbols, without spaces"
    return None


# ---------------------------------------------------------------------------
# Form text: what a person types in the settings screen, to and from setting values.
# An empty field means "unset" for a parameter, "the default" for a timeout.


def param_text(name: str, value: Any) -> str:
    """A parameter's value as a form field shows it ("" when unset). Not for ``stop``."""
    if value is None:
        return ""
    return repr(float(value)) if name in _RANGES else str(value)


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


def parse_timeout_text(text: str, default: float, label: str = "timeout") -> tuple[float | None, str | None]:
    """(seconds, problem); an empty field is ``default``."""
    text = text.strip()
    if not text:
        return default, None
    try:
        value: Any = float(text)
    except ValueError:
        value = text
    problem = validate_timeout(value, label)
    return (None, problem) if problem else (float(value), None)


def _normalize_param(name: str, value: Any) -> Any:
    """A valid file value in the type ChatParams holds (ints become floats, a stop string a list)."""
    if name in _RANGES:
        return float(value)
    if name == "stop":
        items = [value] if isinstance(value, str) else list(value)
        return items or None
    return value


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
    path = Path(path) if path is not None else config_path()
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

    if "base_url" in data:
        value = extra.pop("base_url")
        check(None, "base_url", validate_base_url(value))
        settings.base_url = normalize_base_url(value)

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
                values[name] = _normalize_param(name, value)
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

    settings.extra = extra
    return settings


# ---------------------------------------------------------------------------
# Saving


def _to_document(settings: Settings) -> dict[str, Any]:
    extra = copy.deepcopy(settings.extra)
    doc: dict[str, Any] = {}
    if settings.api_key:  # never write an empty key (nor one that came from the environment)
        doc["api_key"] = settings.api_key
    for key in ("base_url", "default_model", "system_prompt", "user_agent"):
        if getattr(settings, key) is not None:
            doc[key] = getattr(settings, key)
    doc["stream"] = settings.stream
    doc["theme"] = settings.theme
    for key, value in extra.items():
        if key not in ("params", "timeouts") and key not in doc:
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
    return doc


def _backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a new 0600 file beside ``path``, fsync it, then rename it over ``path``."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # in case the umask is odd; never wider than 0600
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not possible everywhere
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save_settings(settings: Settings, path: Path | None = None, *, replace_invalid: bool = False) -> None:
    """Write ``settings`` (plus ``settings.extra``) atomically, mode 0600.

    Refuses (ConfigError) to write over a file that does not load, unless
    ``replace_invalid``; then the old file is first copied to ``<name>.bak``.
    """
    import tomli_w

    path = Path(path) if path is not None else config_path()
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
                _atomic_write(_backup_path(path), path.read_bytes())
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _atomic_write(path, data)
    except OSError as error:
        raise ConfigError(
            f"The settings could not be saved to {path} ({error.strerror or error}).", path=path
        ) from error


# ---------------------------------------------------------------------------
# Resolution: flag over environment over file over default


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def resolve_api_key(settings: Settings, env: Mapping[str, str] = os.environ) -> tuple[str | None, str]:
    """(key, source); source is "APERTIS_API_KEY", "STIMA_API_KEY", "config" or "none"."""
    for name in ("APERTIS_API_KEY", "STIMA_API_KEY"):
        key = _clean(env.get(name))
        if key:
            return key, name
    key = _clean(settings.api_key)
    if key:
        return key, "config"
    return None, "none"


def resolve_base_url(
    flag: str | None, settings: Settings, env: Mapping[str, str] = os.environ
) -> tuple[str, str]:
    """(url, source); source is "flag", "APERTIS_BASE_URL", "config" or "default".

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
            return normalize_base_url(value), source
    return DEFAULT_BASE_URL, "default"


def resolve_user_agent(settings: Settings, env: Mapping[str, str] = os.environ) -> tuple[str | None, str]:
    """(user agent, source); None means the app's own. Source: "APERTIS_USER_AGENT", "config" or "default".

    A value from the environment that cannot be sent as a header is ignored (the file's is
    checked when it is loaded)."""
    value = _clean(env.get("APERTIS_USER_AGENT"))
    if value and validate_user_agent(value) is None:
        return value, "APERTIS_USER_AGENT"
    value = _clean(settings.user_agent)
    if value:
        return value, "config"
    return None, "default"
