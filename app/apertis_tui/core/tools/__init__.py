"""The MCP client side: servers from the settings, their tools, calls with timeouts. No UI.

- ``config``: ``[mcp.servers.NAME]``, ``mcp_config`` and ``[tools]`` parsed into ``ToolsConfig``;
- ``connection``: one server's life (start, state, stderr, calls) over the ``mcp`` SDK;
- ``naming``: ``ToolInfo``, names OpenAI accepts, function schemas;
- ``results``: ``ToolResult``, content parts as text, capped;
- ``hub``: ``ToolHub``, all servers together, what the UI uses.

Importing this package does not import ``mcp``; a hub imports it when it starts a server.
"""

from .config import ServerConfig, ToolConfigError, ToolsConfig, parse_tools_config, tools_config
from .connection import ServerState
from .hub import ServerStatus, ToolHub
from .naming import ToolInfo
from .results import ToolResult

__all__ = [
    "ServerConfig",
    "ServerState",
    "ServerStatus",
    "ToolConfigError",
    "ToolHub",
    "ToolInfo",
    "ToolResult",
    "ToolsConfig",
    "parse_tools_config",
    "tools_config",
]
