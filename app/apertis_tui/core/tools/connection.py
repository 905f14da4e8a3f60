"""One MCP server's life: start it (stdio child or streamable HTTP) with the ``mcp`` SDK, keep
its state and the last lines of its stderr, send it tool calls, stop it.

The SDK's transports and session are async context managers whose anyio scopes must be left
by the task that entered them, so each server lives in one task of its own (``_run``) that
holds them open until ``stop()``; calls from other tasks only send requests over the session.
``mcp`` is imported here, inside that task: nothing imports it while no server is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

from ..text import clean, one_line
from .config import ServerConfig
from .naming import ToolInfo, tool_info

STDERR_LINES = 20
_LINE_LIMIT = 500  # a line of stderr kept for the user, in characters
_STOP_LIMIT = 15.0  # the SDK's own shutdown is bounded (~7 s at worst); past this, cancel



def _seconds(value: float) -> str:
    return f"{value:g} second{'' if value == 1 else 's'}"

class ServerState(str, Enum):
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


class CallFailed(Exception):
    """A call that could not be sent or did not come back; ``str()`` is the sentence."""


def _flatten(error: BaseException) -> BaseException:
    """The first leaf of an exception group (anyio task groups wrap what their tasks raise)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _is_closed(error: BaseException) -> bool:
    from mcp_types import CONNECTION_CLOSED

    return getattr(error, "code", None) == CONNECTION_CLOSED


class ServerConnection:
    """One configured server; ``on_change()`` is called whenever its state or tools change."""

    def __init__(self, config: ServerConfig, *, start_timeout: float, on_change: Callable[[], None]) -> None:
        self.config = config
        self.start_timeout = start_timeout
        self.state = ServerState.STOPPED
        self.reason: str | None = None
        self.tools: list[ToolInfo] = []
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self._session: Any = None
        self._done = asyncio.Event()  # stop asked for, or the connection died
        self._settled = asyncio.Event()  # no longer starting
        self._stderr_closed = asyncio.Event()
        self._stopping = False
        self._running: list[str] = []  # tools being called now, to name in a death sentence
        self._died_during: str | None = None
        self._stderr_task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def stderr_tail(self) -> list[str]:
        return list(self._stderr)

    def _set(self, state: ServerState, reason: str | None = None) -> None:
        self.state, self.reason = state, reason
        if state is not ServerState.STARTING:
            self._settled.set()
        self._on_change()

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Start in the background (a running event loop is needed); returns at once."""
        self._done, self._settled, self._stderr_closed = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._stopping = False
        self._died_during = None
        self._stderr.clear()
        self.tools = []
        self._set(ServerState.STARTING)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"mcp server {self.name}")

    async def wait_settled(self) -> None:
        await self._settled.wait()

    async def stop(self) -> None:
        """Stop the server (its child process too) and wait until it is gone."""
        task, self._task = self._task, None
        self._stopping = True
        self._done.set()
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), _STOP_LIMIT)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._session = None
        self.tools = []
        self._set(ServerState.STOPPED)

    async def _run(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    await self._connect(stack)
                except asyncio.CancelledError:
                    raise
                except BaseException as error:  # every failure to start becomes the server's reason
                    self._set(ServerState.FAILED, await self._start_failure(_flatten(error)))
                    return
                await self._done.wait()
                if not self._stopping:
                    self._died()
                self._session = None
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # noqa: BLE001
            # A transport's task group can fail the start from outside _connect (an HTTP
            # connect error cancels us, then surfaces here as a group); after the start it
            # is teardown noise, the state being set already.
            if self.state is ServerState.STARTING:
                self._set(ServerState.FAILED, await self._start_failure(_flatten(error)))

    async def _connect(self, stack: contextlib.AsyncExitStack) -> None:
        from mcp import ClientSession

        if self.config.command is not None:
            streams = await self._open_stdio(stack)
        else:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            client = await stack.enter_async_context(create_mcp_http_client(headers=dict(self.config.headers)))
            streams = await stack.enter_async_context(streamable_http_client(self.config.url, http_client=client))
        session = await stack.enter_async_context(ClientSession(*streams))
        async with asyncio.timeout(self.start_timeout):
            await session.initialize()
            listed, cursor = [], None
            while True:  # tools/list is paginated
                from mcp.types import PaginatedRequestParams

                page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
                listed.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
        self._session = session
        self.tools = [tool_info(self.name, tool) for tool in listed]
        self._set(ServerState.READY)

    async def _open_stdio(self, stack: contextlib.AsyncExitStack) -> Any:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=self.config.command, args=list(self.config.args), env=dict(self.config.env) or None,
            cwd=self.config.cwd, encoding_error_handler="replace",
        )
        # stderr goes through a pipe we read ourselves, so its last lines can be shown.
        read_fd, write_fd = os.pipe()
        stack.push_async_callback(self._drain_stderr)
        # Held on self: a task nobody references can be collected mid-read, closing the pipe
        # under the child (which then dies of SIGPIPE).
        self._stderr_task = asyncio.get_running_loop().create_task(self._read_stderr(read_fd))
        errlog = open(write_fd, "w", closefd=True)  # noqa: SIM115 - closed below, once the child has it
        try:
            return await stack.enter_async_context(stdio_client(params, errlog=errlog))
        finally:
            errlog.close()

    async def _read_stderr(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
        )
        pending = ""
        try:
            while chunk := await reader.read(65536):
                lines = (pending + chunk.decode("utf-8", errors="replace")).split("\n")
                pending = lines.pop()[-_LINE_LIMIT * 4 :]  # a line with no end keeps growing: bound it
                for line in lines:
                    self._keep(line)
            self._keep(pending)
        finally:
            transport.close()
            self._stderr_closed.set()
            # stderr closing means the child (and whatever shares its stderr) is gone.
            if self.state is ServerState.READY and not self._stopping:
                self._done.set()

    def _keep(self, line: str) -> None:
        line = clean(line).rstrip()
        if line.strip():
            self._stderr.append(line[:_LINE_LIMIT])

    async def _drain_stderr(self) -> None:
        """Wait a little for the last of stderr, so a failure shows what the server said."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stderr_closed.wait(), 1.0)

    async def _start_failure(self, error: BaseException) -> str:
        """The one-line reason a start failed."""
        name, command = self.name, self.config.command
        if isinstance(error, FileNotFoundError) and command is not None:
            where = f" in {self.config.cwd}" if self.config.cwd and error.filename == self.config.cwd else ""
            if where:
                return f"The tool server '{name}' could not start: its folder {self.config.cwd} does not exist."
            return f"The tool server '{name}' could not start: the command '{one_line(command)}' was not found."
        if isinstance(error, PermissionError) and command is not None:
            return f"The tool server '{name}' could not start: '{one_line(command)}' is not allowed to run."
        if isinstance(error, TimeoutError):
            return (
                f"The tool server '{name}' did not answer within {_seconds(self.start_timeout)} of starting "
                f"(it never replied to initialize)."
            )
        if _is_closed(error) and command is not None:
            await self._drain_stderr()
            last = f": {self._stderr[-1]}" if self._stderr else ""
            return f"The tool server '{name}' exited as soon as it started{last}"
        detail = one_line(str(error) or type(error).__name__, 200)
        what = self.config.url if command is None else shlex.join([command, *self.config.args])
        return f"The tool server '{name}' could not start ({one_line(what, 80)}): {detail}"

    def _died(self) -> None:
        tool = self._died_during or (self._running[-1] if self._running else None)
        during = f" while running {tool}" if tool else ""
        last = f": {self._stderr[-1]}" if self._stderr else ""
        self._session = None
        self.tools = []
        self._set(ServerState.FAILED, f"The tool server '{self.name}' stopped{during}{last}")

    # ------------------------------------------------------------------ calls

    async def call(self, tool: str, arguments: dict[str, Any], timeout: float) -> Any:
        """Run ``tool``; the raw ``CallToolResult``. Raises ``CallFailed`` with a sentence when
        the server is not up, dies during the call, refuses it, or it runs past ``timeout``."""
        session = self._session
        if session is None or self.state is not ServerState.READY:
            if self.state is ServerState.STARTING:
                raise CallFailed(f"The tool server '{self.name}' is still starting; try again in a moment.")
            reason = f" ({self.reason})" if self.reason else ""
            raise CallFailed(f"The tool server '{self.name}' is not running{reason}.")
        self._running.append(tool)
        try:
            async with asyncio.timeout(timeout):
                return await session.call_tool(tool, arguments)
        except TimeoutError:
            raise CallFailed(
                f"The tool {tool} (server '{self.name}') did not finish within {_seconds(timeout)} and was stopped."
            ) from None
        except asyncio.CancelledError:
            raise
        except BaseException as raised:  # noqa: BLE001 - every other way a call fails is a sentence
            error = _flatten(raised)
            if _is_closed(error) or self._done.is_set():
                if not self._stopping:
                    self._died_during = self._died_during or tool
                    self._done.set()  # the run task tears the connection down and reports it
                raise CallFailed(f"The tool server '{self.name}' stopped while running {tool}.") from None
            detail = one_line(str(error) or type(error).__name__, 300)
            raise CallFailed(f"The tool server '{self.name}' could not run {tool}: {detail}") from None
        finally:
            self._running.remove(tool)
