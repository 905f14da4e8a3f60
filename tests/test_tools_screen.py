"""The tools screen (f6) through Pilot, with real MCP servers (tests/mcp_server.py over stdio):
the servers and their states, each tool's switch (kept in the settings file), the chat in
front's own tool settings (kept in the store), restarting a server."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from textual.widgets import Static, Switch

from apertis_tui.core.settings.file import Settings, load_settings
from apertis_tui.core.tools import ServerState
from apertis_tui.core.types import ChatTools
from apertis_tui.ui.screens.conversation import ConversationScreen
from apertis_tui.ui.screens.keys import KeysScreen, key_rows
from apertis_tui.ui.screens.tools import AlwaysList, ChoiceList, ServerList, ToolList, ToolsScreen
from tests.conftest import screen_text, wait_for

SERVER = str(Path(__file__).with_name("mcp_server.py"))
SIZE = (110, 70)
START = 60  # seconds a server may take to start (it imports the SDK first: slow on a busy machine)
TOOL_COUNT = 9  # the tools of tests/mcp_server.py


def stdio(*flags: str) -> dict:
    return {"command": sys.executable, "args": [SERVER, *flags]}


def with_servers(servers: dict, **extra) -> Settings:
    return Settings(extra={"mcp": {"servers": servers}, **extra})


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.toml"


def offered(app) -> set[str]:
    return {entry["function"]["name"] for entry in app.tools.hub.openai_tools()}


def notices(app) -> str:
    return "\n".join(notification.message for notification in app._notifications)


def restarting(app) -> bool:
    return any(worker.group.startswith("tool-server-restart") and not worker.is_finished for worker in app.workers)


def server_processes() -> list[int]:
    """The test MCP servers running as children of this process (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if parent == str(os.getpid()) and state != "Z" and SERVER.encode() in command:
            found.append(int(entry.name))
    return found


async def started(pilot) -> None:
    """Until every configured server is ready or failed."""
    await wait_for(pilot, lambda: pilot.app.tools.hub is not None, what="the tool hub")
    await pilot.app.tools.wait_started(START)


async def open_tools(pilot) -> ToolsScreen:
    await pilot.press("f6")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ToolsScreen), what="the tools screen")
    await pilot.pause()
    return pilot.app.screen


async def focus(pilot, kind: type) -> None:
    """Press tab until a widget of ``kind`` has the focus, as a user would."""
    for _ in range(10):
        if isinstance(pilot.app.focused, kind):
            return
        await pilot.press("tab")
    raise AssertionError(f"tab never reached a {kind.__name__}")


async def highlight(pilot, options, row_id: str) -> None:
    """Press down until the row ``row_id`` is highlighted."""
    for _ in range(len(options.options) + 1):
        if options.highlighted_option is not None and options.highlighted_option.id == row_id:
            return
        await pilot.press("down")
    raise AssertionError(f"never reached {row_id!r}")


# ---------------------------------------------------------------------------


async def test_no_server_configured_says_how_to_configure_one(make_app, tmp_path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # From the palette, as from f6.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Tools")
        await wait_for(pilot, lambda: "The tool servers, their tools" in screen_text(app), what="the palette entry")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ToolsScreen), what="the tools screen")
        await pilot.pause()
        text = screen_text(app)
        assert "No tool server is configured" in text
        assert "[mcp.servers.files]" in text and 'command = "npx"' in text and "args = [" in text
        assert 'url = "https://example.com/mcp"' in text
        assert 'mcp_config = "' in text and "mcpServers format" in text
        assert str(config_file(tmp_path)) in text  # where the settings file is
        assert not app.screen.query_one(ServerList).display
        assert "space switches" not in text  # no tools section without a server
        assert app.screen.query_one(Switch).value is False  # no server: tools are off for chats
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen), what="the chat again")
        assert ("f6", "Tools") in dict(key_rows(app.screen))["App"]  # f1 lists it
        await open_tools(pilot)  # f6 from the prompt (TextArea's own f6 selects a line)


async def test_a_configuration_that_cannot_be_read_says_why(make_app) -> None:
    app = make_app(settings=Settings(extra={"tools": "yes"}))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tools(pilot)
        error = screen.query_one("#tools-error", Static)
        assert error.display
        assert str(error.render()) == "tools must be true, false or a table ([tools])."
        assert "No tool server is configured" in screen_text(app)


async def test_servers_ready_and_failed_with_their_tools_and_reasons(make_app) -> None:
    app = make_app(settings=with_servers({
        "t": stdio(),
        "gone[/]": {"command": "apertis-no-such-command"},  # a name that is bad markup, on purpose
        "quits": stdio("--exit-at-once"),
    }))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = await open_tools(pilot)
        text = screen_text(app)
        assert f"t  ready · {TOOL_COUNT} tools  stdio · " in text
        assert "gone[/]  failed  stdio · apertis-no-such-command" in text
        assert "The tool server 'gone[/]' could not start: the command 'apertis-no-such-command' was not found." in text
        assert "The tool server 'quits' exited as soon as it started: cannot open the database" in text
        assert "its stderr ended with:" in text
        # Each tool of the ready server, its switch, its description; the name the model sees.
        tools = screen.query_one(ToolList)
        assert [row.tool.name for row in tools.options if hasattr(row, "tool")] == [
            tool.name for tool in app.tools.hub.status("t").tools]
        assert "● on  add" in text and "Add two numbers." in text
        assert "bad name!  sent as t__bad_name_" in text
        assert "\x1b" not in text and "Return markup and escape sequences." in text
        # f1 lists this screen's keys.
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, KeysScreen), what="the keys")
        keys = screen_text(app)
        assert "Restart server" in keys and "Next section" in keys


async def test_a_tool_switched_off_is_not_offered_and_stays_off(make_app, tmp_path) -> None:
    # tools = false: the short spelling, which the switch must turn into a [tools] table.
    app = make_app(settings=with_servers({"t": stdio()}, tools=False))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = await open_tools(pilot)
        await focus(pilot, ToolList)
        tools = screen.query_one(ToolList)
        await highlight(pilot, tools, "tool\0t\0big")
        await pilot.press("space")
        await wait_for(pilot, lambda: "big" not in offered(app), what="big to be switched off")
        assert "add" in offered(app)
        await wait_for(pilot, lambda: "○ off big" in screen_text(app), what="the switch drawn off")
        assert f"ready · {TOOL_COUNT} tools, 1 switched off" in screen_text(app)
        saved = tomllib.loads(config_file(tmp_path).read_text("utf-8"))
        assert saved["tools"] == {"enabled": False, "disabled": ["t/big"]}
        assert "t" in saved["mcp"]["servers"]

        # The settings applied again (as the settings screen does when saved): still off, and
        # the server was not restarted for it.
        pid = (await app.tools.hub.call("pid", "")).text
        await app.tools.apply(load_settings(config_file(tmp_path)))
        assert "big" not in offered(app)
        await app.tools.hub.apply(app.tools.config)
        assert "big" not in offered(app)
        assert (await app.tools.hub.call("pid", "")).text == pid

        # On again (enter works as space): the list in the file goes, [tools] enabled stays.
        await pilot.press("enter")
        await wait_for(pilot, lambda: "big" in offered(app), what="big to be switched on")
        saved = tomllib.loads(config_file(tmp_path).read_text("utf-8"))
        assert saved["tools"] == {"enabled": False}


async def test_a_settings_file_that_cannot_be_written_is_a_notice(make_app, tmp_path) -> None:
    config_file(tmp_path).parent.mkdir(parents=True)
    config_file(tmp_path).write_text("this is = not TOML\n", "utf-8")
    app = make_app(settings=with_servers({"t": stdio()}))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        screen = await open_tools(pilot)
        await focus(pilot, ToolList)
        await highlight(pilot, screen.query_one(ToolList), "tool\0t\0add")
        await pilot.press("space")
        await wait_for(pilot, lambda: "not in the settings file" in notices(app), what="the notice")
        assert "The tool is switched off for this session, but not in the settings file:" in notices(app)
        assert "add" not in offered(app)  # it holds for the session
        assert config_file(tmp_path).read_text("utf-8") == "this is = not TOML\n"  # nor was it written over


async def test_the_chat_in_front_keeps_its_tool_settings(make_app) -> None:
    app = make_app(settings=with_servers({"t": stdio()}))
    async with app.run_test(size=SIZE) as pilot:
        chat = app.new_chat("gpt-4o", title="Tool chat", tools=ChatTools(always=("t/add", "t/pid")))
        pane = await app.open_chat(chat.id)
        await started(pilot)
        screen = await open_tools(pilot)
        assert "This chat  Tool chat" in screen_text(app)

        await focus(pilot, Switch)
        assert screen.query_one(Switch).value is True  # a server is configured: on by default
        await pilot.press("space")
        await wait_for(pilot, lambda: app.store.get_chat(chat.id).tools.enabled is False, what="tools off")
        assert "tools off" in pane.own_settings_summary()

        await focus(pilot, ChoiceList)
        choices = screen.query_one(ChoiceList)
        assert choices.highlighted_option.id == "choice\0auto"  # the chat's own, highlighted first
        await highlight(pilot, choices, "choice\0required")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.store.get_chat(chat.id).tools.choice == "required", what="required")
        assert "◉ required" in screen_text(app)
        await highlight(pilot, choices, "choice\0add")
        await pilot.press("space")
        await wait_for(pilot, lambda: app.store.get_chat(chat.id).tools.choice == "add", what="one named tool")
        assert app.store.get_chat(chat.id).tools.enabled is False  # the rest kept

        await focus(pilot, AlwaysList)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.store.get_chat(chat.id).tools.always == ("t/pid",), what="t/add forgotten")
        await pilot.press("delete")
        await wait_for(pilot, lambda: app.store.get_chat(chat.id).tools.always == (), what="t/pid forgotten")
        assert "none: every tool call asks first" in screen_text(app)
        assert app.store.get_chat(chat.id).tools == ChatTools(enabled=False, choice="add")


async def test_without_a_chat_the_screen_has_no_chat_section(make_app) -> None:
    app = make_app(settings=with_servers({"t": stdio()}))
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ToolsScreen(None))
        await pilot.pause()
        assert not app.screen.query("#chat-tools-heading") and not app.screen.query(Switch)
        assert "This chat" not in screen_text(app)


async def test_restart_brings_a_server_back(make_app) -> None:
    app = make_app(settings=with_servers({"t": stdio()}))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        hub = app.tools.hub
        screen = await open_tools(pilot)
        assert isinstance(app.focused, ServerList)
        result = await hub.call("crash", "")  # the server dies under the open screen
        assert result.is_error
        await wait_for(pilot, lambda: "The tool server 't' stopped while running crash" in screen_text(app),
                       timeout=START, what="the server drawn failed")
        assert "about to crash" in screen_text(app)  # its stderr
        assert not screen.query_one(ToolList).display
        await pilot.press("r")
        await wait_for(pilot, lambda: hub.status("t").state is ServerState.READY and not restarting(app),
                       timeout=START, what="ready again")
        await wait_for(pilot, lambda: f"t  ready · {TOOL_COUNT} tools" in screen_text(app), what="drawn ready")
        assert (await hub.call("add", '{"a": 1, "b": 2}')).text == "3"

        # r twice, fast, on a running server: one restart, one process (two starts at once
        # left two processes, then none and the server failed).
        old_pid = int((await hub.call("pid", "")).text)
        await pilot.press("r", "r")
        await wait_for(pilot, lambda: hub.status("t").state is ServerState.READY and not restarting(app),
                       timeout=START, what="ready after the second restart")
        pid = (await hub.call("pid", "")).text
        assert pid.isdigit() and int(pid) != old_pid, pid
        if Path("/proc").is_dir():
            assert server_processes() == [int(pid)]
