"""The tools' configuration: which MCP servers to run and the limits on tool calls, as parsed.

Read from the settings document (``Settings.extra`` keeps the tables the settings module does
not know) and from an optional JSON file in the ``mcpServers`` format other clients use::

    mcp_config = "~/.config/claude/mcp.json"   # optional; relative to the settings file's folder

    [mcp.servers.files]                        # a stdio server
    command = "npx"
    args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
    env = { LOG_LEVEL = "warn" }               # added to a minimal inherited environment
    cwd = "/home/me"                           # optional

    [mcp.servers.search]                       # a streamable-HTTP server
    url = "https://example.com/mcp"
    headers = { Authorization = "Bearer ..." }

    [tools]                                    # every key optional
    enabled = true           # tools on for new chats; default: true when a server is configured
    timeout = 60             # seconds a tool call may run
    max_result_bytes = 32768 # what a result may send back to the model (UTF-8 bytes)
    max_rounds = 10          # tool rounds in one turn before the turn is stopped
    start_timeout = 20       # seconds a server has to answer ``initialize``
    disabled = ["files/write_file"]  # tools switched off on the tools screen (server/tool)

Tools are turned off for new chats by ``[tools] enabled = false`` or, shorter, a top-level
``tools = false`` (then every other key keeps its default).
The JSON file holds ``{"mcpServers": {NAME: {"command", "args", "env", "cwd"} | {"url",
"headers"}}}``; keys other clients add there (``type``, ``disabled``, ``alwaysAllow``...) are
tolerated, ``"disabled": true`` skips the entry, and a TOML server wins over a JSON one of
the same name. Every problem is a ``ToolConfigError`` whose text names the server and key.
This module never imports ``mcp``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ToolConfigError(Exception):
    """A tools-configuration problem, as one sentence for the user (``str(error)``)."""


@dataclass(frozen=True)
class ServerConfig:
    """One MCP server: stdio (``command``...) or streamable HTTP (``url``...)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    source: str = "settings"  # "settings", or the JSON file's path

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"


DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RESULT_BYTES = 32768
DEFAULT_MAX_ROUNDS = 10
DEFAULT_START_TIMEOUT = 20.0


@dataclass(frozen=True)
class ToolsConfig:
    servers: tuple[ServerConfig, ...] = ()
    enabled: bool = False
    timeout: float = DEFAULT_TIMEOUT
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    max_rounds: int = DEFAULT_MAX_ROUNDS
    start_timeout: float = DEFAULT_START_TIMEOUT
    disabled: frozenset[tuple[str, str]] = frozenset()  # (server, tool) switched off

    def server(self, name: str) -> ServerConfig | None:
        return next((server for server in self.servers if server.name == name), None)


_STDIO_KEYS = {"command", "args", "env", "cwd"}
_HTTP_KEYS = {"url", "headers"}
# Keys other clients keep in their mcpServers entries; harmless to us, so a shared file loads.
_JSON_TOLERATED = {"type", "disabled", "alwaysAllow", "autoApprove", "timeout", "description", "transport"}


def _is_str_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _server(name: str, entry: Any, where: str, *, strict: bool, source: str) -> ServerConfig | None:
    """One server entry; ``where`` prefixes every sentence (``mcp.servers.files``)."""

    def fail(sentence: str) -> ToolConfigError:
        return ToolConfigError(f"{where}: {sentence}.")

    if not isinstance(entry, Mapping):
        raise fail("must be a table of settings (command or url)")
    if not name.strip():
        raise fail("the server name must not be empty")
    if not strict and entry.get("disabled") is True:
        return None
    unknown = sorted(set(entry) - _STDIO_KEYS - _HTTP_KEYS - (set() if strict else _JSON_TOLERATED))
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (a server has command, args, env, cwd or url, headers)")
    if not strict and entry.get("type") == "sse":
        raise fail("the old SSE transport is not supported; use the server's streamable-HTTP url")
    has_command, has_url = "command" in entry, "url" in entry
    if has_command and has_url:
        raise fail("has both command and url; a server is either stdio (command) or HTTP (url)")
    if not has_command and not has_url:
        raise fail("needs a command (a stdio server) or a url (a streamable-HTTP server)")
    if has_command:
        stray = sorted(set(entry) & _HTTP_KEYS)
        if stray:
            raise fail(f"{stray[0]} belongs to an HTTP server (url), not a stdio one (command)")
        command = entry["command"]
        if not isinstance(command, str) or not command.strip():
            raise fail("command must be a string (the program to run)")
        args = entry.get("args", [])
        if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
            raise fail("args must be a list of strings")
        env = entry.get("env", {})
        if not _is_str_map(env):
            raise fail("env must be a table of strings (NAME = \"value\")")
        cwd = entry.get("cwd")
        if cwd is not None and (not isinstance(cwd, str) or not cwd.strip()):
            raise fail("cwd must be a string (a folder)")
        return ServerConfig(
            name, command=command, args=tuple(args), env=dict(env),
            cwd=str(Path(cwd).expanduser()) if cwd else None, source=source,
        )
    stray = sorted(set(entry) & _STDIO_KEYS)
    if stray:
        raise fail(f"{stray[0]} belongs to a stdio server (command), not an HTTP one (url)")
    url = entry["url"]
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise fail("url must be a string starting with http:// or https://")
    headers = entry.get("headers", {})
    if not _is_str_map(headers):
        raise fail("headers must be a table of strings (Name = \"value\")")
    return ServerConfig(name, url=url.strip(), headers=dict(headers), source=source)


def _toml_servers(mcp: Any) -> list[ServerConfig]:
    if not isinstance(mcp, Mapping):
        raise ToolConfigError("mcp must be a table ([mcp.servers.NAME] for each server).")
    unknown = sorted(set(mcp) - {"servers"})
    if unknown:
        raise ToolConfigError(f"mcp: unknown key {unknown[0]!r} (servers go under [mcp.servers.NAME]).")
    servers = mcp.get("servers", {})
    if not isinstance(servers, Mapping):
        raise ToolConfigError("mcp.servers must be a table ([mcp.servers.NAME] for each server).")
    found = []
    for name, entry in servers.items():
        server = _server(name, entry, f"mcp.servers.{name}", strict=True, source="settings")
        if server is not None:
            found.append(server)
    return found


def _json_servers(value: Any, base_dir: Path | None) -> list[ServerConfig]:
    if not isinstance(value, str) or not value.strip():
        raise ToolConfigError("mcp_config must be a string (the path of a JSON file with mcpServers).")
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ToolConfigError(f"The MCP config file {path} (mcp_config) does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ToolConfigError(f"The MCP config file {path} could not be read ({reason}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ToolConfigError(
            f"The MCP config file {path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers"), dict):
        raise ToolConfigError(f'The MCP config file {path} has no "mcpServers" object.')
    found = []
    for name, entry in data["mcpServers"].items():
        server = _server(name, entry, f"{path}: mcpServers.{name}", strict=False, source=str(path))
        if server is not None:
            found.append(server)
    return found


def _positive(table: Mapping[str, Any], key: str, default: float, *, whole: bool) -> Any:
    if key not in table:
        return default
    value = table[key]
    good = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not good or value <= 0:
        kind = "a positive whole number" if whole else "a positive number of seconds"
        raise ToolConfigError(f"tools.{key} must be {kind}.")
    return value if whole else float(value)


def parse_tools_config(extra: Mapping[str, Any], *, base_dir: Path | None = None) -> ToolsConfig:
    """The tools configuration from the settings document's unknown tables (``Settings.extra``
    or a plain dict of the whole document). ``base_dir`` anchors a relative ``mcp_config``."""
    servers: dict[str, ServerConfig] = {}
    if "mcp_config" in extra:
        for server in _json_servers(extra["mcp_config"], base_dir):
            servers[server.name] = server
    if "mcp" in extra:
        for server in _toml_servers(extra["mcp"]):
            servers[server.name] = server  # the settings file wins over the shared JSON file
    table = extra.get("tools", {})
    if isinstance(table, bool):  # tools = false: the short spelling of [tools] enabled = false
        table = {"enabled": table}
    if not isinstance(table, Mapping):
        raise ToolConfigError("tools must be true, false or a table ([tools]).")
    known = ("enabled", "timeout", "max_result_bytes", "max_rounds", "start_timeout", "disabled")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ToolConfigError(f"tools: unknown key {unknown[0]!r} (known: {', '.join(known)}).")
    enabled = table.get("enabled", bool(servers))
    if not isinstance(enabled, bool):
        raise ToolConfigError("tools.enabled must be true or false.")
    return ToolsConfig(
        servers=tuple(servers.values()),
        enabled=enabled,
        timeout=_positive(table, "timeout", DEFAULT_TIMEOUT, whole=False),
        max_result_bytes=_positive(table, "max_result_bytes", DEFAULT_MAX_RESULT_BYTES, whole=True),
        max_rounds=_positive(table, "max_rounds", DEFAULT_MAX_ROUNDS, whole=True),
        start_timeout=_positive(table, "start_timeout", DEFAULT_START_TIMEOUT, whole=False),
        disabled=_disabled(table.get("disabled", [])),
    )


def _disabled(value: Any) -> frozenset[tuple[str, str]]:
    """``["server/tool", ...]`` as (server, tool) pairs (a tool's own name may hold "/")."""
    if not isinstance(value, list) or not all(isinstance(item, str) and "/" in item for item in value):
        raise ToolConfigError('tools.disabled must be a list of "server/tool" names.')
    return frozenset(tuple(item.split("/", 1)) for item in value)  # type: ignore[misc]


def store_disabled(extra: dict[str, Any], disabled: Iterable[tuple[str, str]]) -> None:
    """Write the switched-off tools into a settings document's unknown tables (``Settings.extra``),
    in place, as ``[tools] disabled`` (sorted); the key goes when nothing is off, and a ``[tools]``
    table left empty goes too. A short ``tools = false`` (or ``true``) becomes the table it stands
    for. Raises ``ToolConfigError`` rather than write over a ``tools`` value that is not valid."""
    table = extra.get("tools", {})
    if isinstance(table, bool):
        table = {"enabled": table}
    elif isinstance(table, Mapping):
        table = dict(table)
    else:
        raise ToolConfigError("tools must be true, false or a table ([tools]); fix it in the settings file first.")
    names = sorted(f"{server}/{tool}" for server, tool in disabled)
    if names:
        table["disabled"] = names
    else:
        table.pop("disabled", None)
    if table:
        extra["tools"] = table
    else:
        extra.pop("tools", None)


def tools_config(settings: Any, config_path: Path | None = None) -> ToolsConfig:
    """The tools configuration of a loaded ``Settings`` (its ``extra``); a relative
    ``mcp_config`` is taken from the settings file's folder."""
    if config_path is None:
        from .. import paths

        config_path = paths.config_path()
    return parse_tools_config(settings.extra, base_dir=Path(config_path).parent)
