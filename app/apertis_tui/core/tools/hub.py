"""``ToolHub``: every configured MCP server together — started in the background, their states,
their tools as OpenAI function schemas under safe names, and tool calls by those names.

The UI owns one hub: ``start()`` after the first frame, ``call()`` from a chat's worker,
``stop_all()`` when the app exits. Nothing here raises for a failure a user or a model can
cause: a call that cannot run gives a ``ToolResult`` with ``is_error`` and a sentence.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from ..text import one_line
from .config import ToolsConfig
from .connection import CallFailed, ServerConnection, ServerState
from .naming import ToolInfo, assign_safe_names, qualified_name
from .results import ToolResult, failure, from_call_result


@dataclass(frozen=True)
class ServerStatus:
    """A snapshot of one server for the screen: state, tools, and why it failed."""

    name: str
    transport: str  # "stdio" or "http"
    state: ServerState
    tools: tuple[ToolInfo, ...] = ()
    reason: str | None = None
    stderr_tail: tuple[str, ...] = ()


class ToolHub:
    """The configured servers. ``on_change(name)`` is called (in the loop) whenever a server's
    state or tool list changes, so a screen can redraw."""

    def __init__(self, config: ToolsConfig, on_change: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.on_change = on_change
        self._connections: dict[str, ServerConnection] = {}
        self._by_safe_name: dict[str, ToolInfo] = {}
        # (server, tool) switched off by the user: from the settings, then the tools screen.
        self._disabled: set[tuple[str, str]] = set(config.disabled)
        # Every name a tool was offered under, and its server: a call to a tool whose server
        # has since failed is told so, not told the tool does not exist.
        self._offered: dict[str, str] = {}
        self._restart_locks: dict[str, asyncio.Lock] = {}
        for server in config.servers:
            self._connections[server.name] = self._connection(server)

    def _connection(self, server) -> ServerConnection:
        return ServerConnection(
            server, start_timeout=self.config.start_timeout, on_change=lambda name=server.name: self._changed(name)
        )

    def _changed(self, name: str) -> None:
        tools = [tool for conn in self._connections.values() if conn.state is ServerState.READY for tool in conn.tools]
        for tool in tools:
            tool.enabled = (tool.server, tool.name) not in self._disabled
        self._by_safe_name = assign_safe_names(tools)
        self._offered.update((tool.safe_name, tool.server) for tool in tools)
        if self.on_change is not None:
            self.on_change(name)

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Start every server that is not running, in the background; returns at once."""
        for conn in self._connections.values():
            if conn.state in (ServerState.STOPPED, ServerState.FAILED):
                conn.start()

    async def wait_started(self, timeout: float | None = None) -> None:
        """Wait until no server is starting (each is ready or failed)."""
        waits = [conn.wait_settled() for conn in self._connections.values() if conn.state is ServerState.STARTING]
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), timeout)

    async def restart(self, name: str) -> None:
        """Stop the server ``name`` and start it again (it reads its configuration anew).
        Restarts of one server wait for each other: two at once used to start two processes
        and keep neither."""
        async with self._restart_locks.setdefault(name, asyncio.Lock()):
            conn = self._connections[name]
            await conn.stop()
            conn.start()

    async def apply(self, config: ToolsConfig) -> None:
        """Take a new configuration: servers whose settings changed are restarted, removed ones
        stopped, new ones started; untouched servers keep running."""
        old = self._connections
        self.config = config
        self._disabled = set(config.disabled)
        self._connections = {}
        stale = []
        for server in config.servers:
            conn = old.pop(server.name, None)
            if conn is not None and conn.config == server and conn.start_timeout == config.start_timeout:
                self._connections[server.name] = conn
            else:
                if conn is not None:
                    stale.append(conn)
                self._connections[server.name] = self._connection(server)
        stale.extend(old.values())
        await asyncio.gather(*(conn.stop() for conn in stale))
        # Every server is announced: the switched-off tools may have changed for any of them.
        for name in {conn.name for conn in stale} | set(self._connections):
            self._changed(name)
        self.start()

    async def stop_all(self) -> None:
        """Stop every server and wait until their processes are gone."""
        await asyncio.gather(*(conn.stop() for conn in self._connections.values()))

    # ------------------------------------------------------------------ what there is

    def servers(self) -> list[ServerStatus]:
        return [self.status(name) for name in self._connections]

    def status(self, name: str) -> ServerStatus:
        conn = self._connections[name]
        return ServerStatus(
            name=conn.name,
            transport=conn.config.transport,
            state=conn.state,
            tools=tuple(conn.tools),
            reason=conn.reason,
            stderr_tail=tuple(conn.stderr_tail),
        )

    def tools(self) -> list[ToolInfo]:
        """Every tool of every ready server, enabled or not, with its ``safe_name``."""
        return list(self._by_safe_name.values())

    @property
    def disabled(self) -> frozenset[tuple[str, str]]:
        """The tools switched off, as (server, tool): what the settings file keeps."""
        return frozenset(self._disabled)

    def set_tool_enabled(self, server: str, tool: str, enabled: bool) -> None:
        """Switch a tool (by its server's own name for it) on or off; kept across server
        restarts (and, when the caller saves ``disabled``, across app restarts)."""
        if enabled:
            self._disabled.discard((server, tool))
        else:
            self._disabled.add((server, tool))
        self._changed(server)

    def openai_tools(self) -> list[dict]:
        """The enabled tools as OpenAI ``tools`` entries (function schemas)."""
        return [tool.openai_schema() for tool in self._by_safe_name.values() if tool.enabled]

    def resolve(self, safe_name: str) -> ToolInfo | None:
        """The tool the model means by ``safe_name`` (its own name, or ``server__tool``)."""
        tool = self._by_safe_name.get(safe_name)
        if tool is not None:
            return tool
        # A qualified name always works, so a name from before a clash appeared still resolves.
        for tool in self._by_safe_name.values():
            if qualified_name(tool.server, tool.name) == safe_name:
                return tool
        return None

    # ------------------------------------------------------------------ calls

    def check(self, safe_name: str, arguments: str | None) -> ToolResult | None:
        """Why a call cannot run, before anyone is asked to approve it (no such tool, a
        switched-off one, arguments that are not JSON or do not fit the schema); None when
        it can. A server that is down is left to ``call``, which says so."""
        tool = self.resolve(safe_name)
        if tool is None:
            if self._offered.get(safe_name) in self._connections:
                return None  # a known tool of a server that is down: call() tells why
            return self._unknown(safe_name)
        if not tool.enabled:
            return self._unknown(safe_name)
        parsed = self._arguments(tool, arguments)
        return parsed if isinstance(parsed, ToolResult) else None

    def _unknown(self, safe_name: str) -> ToolResult:
        known = ", ".join(sorted(t.safe_name for t in self._by_safe_name.values() if t.enabled)[:30])
        listed = f" The tools available are: {known}." if known else " No tools are available."
        return failure(f"There is no tool named '{one_line(safe_name, 64)}'.{listed}")

    async def call(self, safe_name: str, arguments: str | None) -> ToolResult:
        """Run a tool the model asked for, with its arguments as the JSON text the model sent.

        Never raises for a failure (unknown tool, bad arguments, a server that is down or dies,
        the timeout): those come back as a ``ToolResult`` with ``is_error`` and a sentence.
        Cancelling the awaiting task stops the call (the server is told to cancel it).
        """
        tool = self.resolve(safe_name)
        server = self._offered.get(safe_name)
        if tool is None and server in self._connections and self._connections[server].state is not ServerState.READY:
            try:
                await self._connections[server].call(safe_name, {}, self.config.timeout)
            except CallFailed as error:  # not running: the sentence says why
                return failure(str(error))
        if tool is None or not tool.enabled:
            return self._unknown(safe_name)
        parsed = self._arguments(tool, arguments)
        if isinstance(parsed, ToolResult):
            return parsed
        conn = self._connections.get(tool.server)
        if conn is None:
            return failure(f"The tool server '{tool.server}' is no longer configured.")
        try:
            result = await conn.call(tool.name, parsed, self.config.timeout)
        except CallFailed as error:
            return failure(str(error))
        return from_call_result(result, self.config.max_result_bytes)

    @staticmethod
    def _arguments(tool: ToolInfo, arguments: str | None) -> dict | ToolResult:
        """The arguments as a dict, or a sentence the model can act on."""
        if arguments is None or not arguments.strip():
            return {}  # models send "" for a tool that takes nothing
        try:
            value = json.loads(arguments)
        except json.JSONDecodeError as error:
            return failure(
                f"The arguments for {tool.safe_name} are not valid JSON ({error.msg} at line {error.lineno}, "
                f"column {error.colno}). Send them as one JSON object."
            )
        if not isinstance(value, dict):
            return failure(f"The arguments for {tool.safe_name} must be a JSON object, not {_kind(value)}.")
        problems = schema_problems(tool.input_schema, value)
        if problems:
            return failure(f"The arguments for {tool.safe_name} do not fit its schema: {'; '.join(problems)}. "
                           "Correct them and call it again.")
        return value


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,), "null": (type(None),),
}


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {list: "a list", str: "a string", dict: "an object", type(None): "null"}.get(type(value), "a number")


def schema_problems(schema: dict, value: dict) -> list[str]:
    """What is wrong with ``value`` against the top level of an object schema: missing
    required properties, properties of the wrong JSON type, unknown ones where the schema
    forbids them. Deliberately shallow: the server checks the rest, and its error goes back to
    the model the same way."""
    problems = []
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    problems += [f"'{name}' is required" for name in required if isinstance(name, str) and name not in value]
    for name, item in value.items():
        spec = properties.get(name)
        if spec is None:
            if schema.get("additionalProperties") is False:
                problems.append(f"'{one_line(str(name), 40)}' is not one of its arguments ({', '.join(properties) or 'none'})")
            continue
        wanted = spec.get("type") if isinstance(spec, dict) else None
        names = [wanted] if isinstance(wanted, str) else wanted if isinstance(wanted, list) else []
        types = tuple(t for n in names if isinstance(n, str) for t in _JSON_TYPES.get(n, ()))
        if not types:
            continue
        wrong_bool = isinstance(item, bool) and bool not in types  # JSON true is no number
        if wrong_bool or not isinstance(item, types):
            problems.append(f"'{name}' must be {' or '.join(str(n) for n in names)}, not {_kind(item)}")
    return problems
