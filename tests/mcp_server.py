"""A real MCP server for the tool tests, written with the SDK (``MCPServer``, mcp 2's FastMCP).

Run as ``python tests/mcp_server.py`` it speaks stdio; ``python tests/mcp_server.py --http``
binds a free port on 127.0.0.1, prints ``PORT <n>`` on stdout and serves streamable HTTP at
``/mcp``. ``--stderr-noise`` writes a few lines to stderr first (the hub keeps the last ones).
"""

from __future__ import annotations

import os
import socket
import sys
import time

import anyio
from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("test-tools", log_level="ERROR")


@server.tool(description="Add two numbers.")
def add(a: float, b: float) -> str:
    total = a + b
    return str(int(total) if total == int(total) else total)


@server.tool(description="Sleep for some seconds, then say so.")
async def sleep(seconds: float) -> str:
    await anyio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(description="Raise an error with this message.")
def fail(message: str) -> str:
    raise ToolError(message)


@server.tool(description="Return n KB of text.")
def big(n: int) -> str:
    return ("x" * 1023 + "\n") * n


@server.tool(description="Return markup and escape sequences.\x1b]0;pwned\x07")
def hostile() -> str:
    return "[bold]x[/] \x1b]0;pwned\x07\x1b[2Jdone\x9b"


@server.tool(description="Return an image (a few bytes of PNG).")
def picture() -> Image:
    return Image(data=b"\x89PNG\r\n\x1a\n" + b"\0" * 12 * 1024, format="png")


@server.tool(description="Exit the server process in the middle of the call.")
def crash() -> str:
    sys.stderr.write("about to crash\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool(description="The server's process id.")
def pid() -> str:
    return str(os.getpid())


@server.tool(name="bad name!", description="A tool whose name OpenAI would refuse.")
def bad_name() -> str:
    return "ok"


def _serve_http() -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning")
    anyio.run(uvicorn.Server(config).serve, [sock])


if __name__ == "__main__":
    if "--stderr-noise" in sys.argv:
        for number in range(30):
            sys.stderr.write(f"noise line {number}\x1b[31m\n")
        sys.stderr.flush()
    if "--exit-at-once" in sys.argv:
        sys.stderr.write("cannot open the database\n")
        sys.exit(2)
    if "--slow-start" in sys.argv:
        time.sleep(60)
    if "--http" in sys.argv:
        _serve_http()
    else:
        server.run()
