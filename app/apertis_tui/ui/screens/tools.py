"""The tools screen (f6): each MCP server and its state, each tool with its switch, and the chat
in front's own tool settings (on or off, tool_choice, the tools it always allows).

It draws from what the app holds (``app.tools``: the configuration, the hub) and redraws when
``app.tools.changed`` says a server or a tool changed; it keeps nothing of its own. Switching a
tool goes through ``ToolServers.set_tool_enabled`` (the hub, then the settings file); the chat's
settings through ``ChatPane.set_chat_tools`` (the store, then its title bar). Everything the
servers say (names, descriptions, reasons, stderr) is shown as text, never read as markup.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static, Switch
from textual.widgets.option_list import Option

from ...core.tools import ServerState, ServerStatus
from ..paths import stylesheets
from ..titles import chat_title
from ..widgets.key_bar import KeyBar
from ..widgets.param_fields import FieldRow
from .tool_rows import AlwaysRow, ChoiceRow, ServerHeading, ServerRow, ToolRow

if TYPE_CHECKING:
    from ...core.tools import ServerConfig
    from ..app import ApertisApp
    from ..widgets.chat_pane import ChatPane

HOW_TO = """\
No tool server is configured. Tools come from MCP servers, listed in the settings file:

    [mcp.servers.files]                 # a server the app runs (stdio)
    command = "npx"
    args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]

    [mcp.servers.search]                # a server it connects to (streamable HTTP)
    url = "https://example.com/mcp"

Or, to share the servers of another client, a JSON file in the mcpServers format:

    mcp_config = "~/.config/claude/mcp.json"

Then start apertis-tui again."""


class ServerList(OptionList):
    """The servers; r (the screen's) restarts the highlighted one."""

    BINDINGS = [Binding("enter", "select", "Its tools", show=False, id="tools.servers.tools")]


class ToolList(OptionList):
    """The tools of the ready servers, under their server's name."""

    BINDINGS = [
        Binding("space", "select", "On/off", id="tools.list.switch"),
        Binding("enter", "select", "On/off", show=False, id="tools.list.switch_enter"),
    ]


class ChoiceList(OptionList):
    """The chat's tool_choice."""

    BINDINGS = [
        Binding("space", "select", "Choose", id="tools.choice.choose"),
        Binding("enter", "select", "Choose", show=False, id="tools.choice.choose_enter"),
    ]


class AlwaysList(OptionList):
    """The tools the chat runs without asking."""

    BINDINGS = [Binding("x,delete", "screen.forget", "Forget", id="tools.always.forget")]


def _where(server: ServerConfig | None, transport: str) -> str:
    """How the server is reached, short and without secrets: the command's name (not its
    arguments), the URL's host (not its path or query)."""
    if server is None:
        return transport
    if server.command is not None:
        return f"stdio · {server.command.rsplit('/', 1)[-1]}"
    return f"http · {urlsplit(server.url or '').hostname or server.url}"


def _fill(options: OptionList, rows: list[Option], first: int = 0) -> None:
    """Put ``rows`` in the list, keeping the highlight on the same row (by id) where it can;
    ``first``: the row to highlight when none was."""
    old = options.highlighted_option
    old_index = options.highlighted
    options.set_options(rows)
    ids = [row.id for row in rows]
    selectable = [index for index, row in enumerate(rows) if not row.disabled]
    if not selectable:
        return
    if old is not None and old.id in ids and not rows[ids.index(old.id)].disabled:
        options.highlighted = ids.index(old.id)
    else:  # the row went: the one now at its place (or the last), else the first
        index = old_index if old_index is not None else first
        options.highlighted = next((i for i in selectable if i >= index), selectable[-1])


class ToolsScreen(Screen[None]):
    """``pane``: the chat in front, whose own tool settings are shown too (None: no chat)."""

    CSS_PATH = stylesheets("tools")

    BINDINGS = [
        Binding("escape", "close", "Back", id="tools.close"),
        Binding("r", "restart", "Restart server", id="tools.restart"),
        Binding("tab", "app.focus_next", "Next section", id="tools.next"),
        # The app's keys for the chat underneath mean nothing here.
        Binding("f6,f9,ctrl+o", "ignore", show=False, id="tools.ignore"),
    ]

    def __init__(self, pane: ChatPane | None) -> None:
        super().__init__()
        self.pane = pane
        self._redraw_due = False

    @property
    def tui(self) -> ApertisApp:
        return self.app  # type: ignore[return-value]

    # -- composition -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        app = self.tui
        yield Static(Content.assemble(("Tools", "bold"), "  ·  ", (str(app.startup.config_path), "$foreground-muted")),
                     id="tools-title")
        error = Static(Content(app.tools.error or ""), id="tools-error")
        error.display = app.tools.error is not None
        yield error
        with VerticalScroll(id="tools-body"):
            yield Static("Servers", classes="tools-section")
            yield ServerList(id="tools-servers")
            yield Static(Content(HOW_TO), id="tools-howto")
            yield Static(Content.assemble("Tools", "  ", ("space switches one on or off; a tool switched off is "
                                                         "never offered to a model", "not bold $foreground-muted")),
                         classes="tools-section", id="tools-heading")
            yield ToolList(id="tools-list")
            yield Static("", id="tools-none")
            if self.pane is not None:
                title = chat_title(self.pane.chat, 60)
                yield Static(Content.assemble("This chat", "  ", (title, "not bold $foreground-muted")),
                             classes="tools-section", id="chat-tools-heading")
                yield FieldRow("Tools", Switch(self.pane.tools_on, id="chat-tools-on"), name="chat-tools-on",
                               hint=self._on_hint())
                yield FieldRow("tool_choice", ChoiceList(id="chat-tool-choice"), name="chat-tool-choice",
                               hint="sent while tools are on")
                yield FieldRow("Always allowed", AlwaysList(id="chat-tools-always"),
                               Static(Content("none: every tool call asks first"), id="chat-tools-always-none"),
                               name="chat-tools-always", hint="x forgets one: its calls ask again")
        yield KeyBar()

    def on_mount(self) -> None:
        self.tui.tools.changed.subscribe(self, self._tools_changed)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())
        self._redraw()
        servers = self.query_one(ServerList)
        (servers if servers.display else self.query_one("#tools-body")).focus()

    def on_unmount(self) -> None:
        self.tui.tools.changed.unsubscribe(self)
        self.app.theme_changed_signal.unsubscribe(self)

    # -- drawing ---------------------------------------------------------------------------------

    def _tools_changed(self, _server: str) -> None:
        """A server's state or tools changed: redraw once, however many changes came together."""
        if not self._redraw_due:
            self._redraw_due = True
            self.call_after_refresh(self._redraw)

    def _statuses(self) -> list[ServerStatus]:
        tools = self.tui.tools
        if tools.hub is not None:
            return tools.hub.servers()
        # Configured but not started yet (they start after the first frame).
        return [ServerStatus(s.name, s.transport, ServerState.STARTING) for s in tools.config.servers]

    def _redraw(self) -> None:
        self._redraw_due = False
        if not self.is_running:  # a redraw asked for just before the screen closed
            return
        tools = self.tui.tools
        error = self.query_one("#tools-error", Static)
        error.update(Content(tools.error or ""))
        error.display = tools.error is not None
        statuses = self._statuses()
        configured = bool(statuses)
        self.query_one("#tools-howto").display = not configured
        servers = self.query_one(ServerList)
        servers.display = configured
        _fill(servers, [ServerRow(status, _where(tools.config.server(status.name), status.transport))
                        for status in statuses])
        self._draw_tools(statuses, configured)
        if self.pane is not None:
            self._draw_chat()
        self.refresh_bindings()

    def _draw_tools(self, statuses: list[ServerStatus], configured: bool) -> None:
        rows: list[Option] = []
        for status in statuses:
            if status.state is ServerState.READY and status.tools:
                rows.append(ServerHeading(status.name, len(status.tools)))
                rows.extend(ToolRow(tool) for tool in status.tools)
        self.query_one("#tools-heading").display = configured
        tool_list = self.query_one(ToolList)
        tool_list.display = bool(rows)
        _fill(tool_list, rows)
        none = self.query_one("#tools-none", Static)
        none.display = configured and not rows
        if any(status.state is ServerState.STARTING for status in statuses):
            none.update("No tools yet: the servers are starting.")
        else:
            none.update("No tools: no server is ready (r restarts the highlighted one).")

    def _draw_chat(self) -> None:
        pane = self.pane
        assert pane is not None
        chat_tools = pane.chat_tools
        switch = self.query_one("#chat-tools-on", Switch)
        if switch.value != pane.tools_on:
            with self.prevent(Switch.Changed):
                switch.value = pane.tools_on
        self.query_one("#row-chat-tools-on", FieldRow).set_hint(self._on_hint())
        hub = self.tui.tools.hub
        names = sorted(tool.safe_name for tool in hub.tools() if tool.enabled) if hub is not None else []
        choices = [ChoiceRow(value, chat_tools.choice == value) for value in ("auto", "none", "required")]
        choices += [ChoiceRow(name, chat_tools.choice == name) for name in names]
        if chat_tools.choice not in {"auto", "none", "required", *names}:
            choices.append(ChoiceRow(chat_tools.choice, True, "not available now (its server is not ready, "
                                                              "or it is switched off)"))
        _fill(self.query_one(ChoiceList), choices, first=next(i for i, row in enumerate(choices) if row.chosen))
        always = self.query_one(AlwaysList)
        always.display = bool(chat_tools.always)
        self.query_one("#chat-tools-always-none").display = not chat_tools.always
        _fill(always, [AlwaysRow(entry) for entry in chat_tools.always])

    def _on_hint(self) -> str:
        pane = self.pane
        default = "on" if self.tui.tools.default_on else "off"
        if pane is None or pane.chat_tools.enabled is None:
            return f"as the default for chats ({default})"
        return f"this chat's own; the default for chats is {default}"

    # -- what the keys do ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restart":
            if self.tui.tools.hub is None:
                return False
            return True if self._server_to_restart() is not None else None
        if action == "forget":
            return True if any(always.highlighted_option is not None for always in self.query(AlwaysList)) else None
        return True

    def action_ignore(self) -> None:
        pass

    def action_close(self) -> None:
        self.dismiss(None)

    def _server_to_restart(self) -> str | None:
        """The tool list's highlighted tool's server while it has the focus, else the server
        highlighted in the server list."""
        if isinstance(self.focused, ToolList):
            row = self.focused.highlighted_option
            if isinstance(row, ToolRow):
                return row.tool.server
        row = self.query_one(ServerList).highlighted_option
        return row.status.name if isinstance(row, ServerRow) else None

    def action_restart(self) -> None:
        hub, name = self.tui.tools.hub, self._server_to_restart()
        if hub is None or name is None:
            return
        group = f"tool-server-restart\0{name}"
        if any(worker.group == group and not worker.is_finished for worker in self.app.workers):
            return  # r pressed again while it restarts: two starts at once would leave a process behind
        # The app's worker, not the screen's: leaving the screen must not cut a restart in half.
        self.app.run_worker(hub.restart(name), group=group, exit_on_error=False)

    def action_forget(self) -> None:
        row = self.query_one(AlwaysList).highlighted_option
        if self.pane is None or not isinstance(row, AlwaysRow):
            return
        always = tuple(entry for entry in self.pane.chat_tools.always if entry != row.entry)
        self.pane.set_chat_tools(replace(self.pane.chat_tools, always=always))
        self._redraw()
        if not always:
            self.query_one(ChoiceList).focus()

    # -- what the lists and the switch say -------------------------------------------------------

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        row = event.option
        if isinstance(row, ToolRow):
            self.tui.tools.set_tool_enabled(row.tool.server, row.tool.name, not row.tool.enabled)
        elif isinstance(row, ChoiceRow) and self.pane is not None:
            self.pane.set_chat_tools(replace(self.pane.chat_tools, choice=row.value))
            self._redraw()
        elif isinstance(row, ServerRow):
            tool_list = self.query_one(ToolList)
            ids = [option.id for option in tool_list.options]
            heading = f"heading\0{row.status.name}"
            if heading in ids:
                tool_list.focus()
                tool_list.highlighted = ids.index(heading) + 1

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        pane = self.pane
        if pane is not None and event.switch.id == "chat-tools-on" and event.value != pane.tools_on:
            pane.set_chat_tools(replace(pane.chat_tools, enabled=event.value))
            self._redraw()
