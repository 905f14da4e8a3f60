"""Tools as the model sees them: ``ToolInfo``, names OpenAI accepts, and function schemas.

OpenAI accepts function names matching ``^[a-zA-Z0-9_-]{1,64}$`` and refuses a request with two
functions of one name. An MCP tool keeps its own name when that is valid and no other server
has a tool of the same name; otherwise it is sent as ``server__tool`` (invalid characters made
``_``, cut to 64, numbered when still taken). Both tools of a clash are renamed, so a name
depends on which servers are up, not on which came up first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..text import clean

VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_INVALID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
# A server's description is sent with every request: an unbounded one would cost tokens each time.
MAX_DESCRIPTION = 4096


@dataclass
class ToolInfo:
    """One tool of one server. ``name`` is the server's (cleaned), ``safe_name`` the one the
    model sees; ``input_schema`` is the JSON schema of the arguments (strings cleaned)."""

    server: str
    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    safe_name: str = ""
    enabled: bool = True

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.safe_name, "description": self.description, "parameters": self.input_schema},
        }


def clean_value(value: Any) -> Any:
    """``value`` (a JSON-like schema) with every string in it cleaned."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(key)): clean_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_value(item) for item in value]
    return value


def tool_info(server: str, tool: Any) -> ToolInfo:
    """A ``ToolInfo`` from an ``mcp`` ``Tool``, every string from the server cleaned."""
    schema = getattr(tool, "input_schema", None)
    schema = clean_value(schema) if isinstance(schema, dict) else {}
    if schema.get("type") != "object":  # OpenAI wants an object schema; a bare one means "no arguments"
        schema = {"type": "object", "properties": {}, **{k: v for k, v in schema.items() if k != "type"}}
    description = clean(getattr(tool, "description", None) or "")[:MAX_DESCRIPTION]
    return ToolInfo(server=server, name=clean(str(tool.name)), description=description, input_schema=schema)


def _slug(text: str) -> str:
    return _INVALID_CHARS.sub("_", text) or "_"


def qualified_name(server: str, tool: str) -> str:
    """``server__tool`` made valid (at most 64 characters)."""
    return f"{_slug(server)}__{_slug(tool)}"[:64]


def assign_safe_names(tools: Iterable[ToolInfo]) -> dict[str, ToolInfo]:
    """Give every tool its ``safe_name`` (in place); returns safe name -> tool."""
    tools = list(tools)
    counts = Counter(tool.name for tool in tools)
    taken: dict[str, ToolInfo] = {}
    renamed = []
    for tool in tools:
        if VALID_NAME.match(tool.name) and counts[tool.name] == 1:
            tool.safe_name = tool.name
            taken[tool.name] = tool
        else:
            renamed.append(tool)
    for tool in renamed:
        base = qualified_name(tool.server, tool.name)
        name, number = base, 2
        while name in taken:
            suffix = f"_{number}"
            name, number = base[: 64 - len(suffix)] + suffix, number + 1
        tool.safe_name = name
        taken[name] = tool
    return taken
