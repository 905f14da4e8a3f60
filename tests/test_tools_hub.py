"""ToolHub against real MCP servers (tests/mcp_server.py, written with the SDK) over stdio and
streamable HTTP on 127.0.0.1: start, list, call, and every way a call or a start fails."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apertis_tui.core.tools import ServerState, ToolHub, parse_tools_config

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def stdio(*flags: str) -> dict:
    return {"command": sys.executable, "args": [SERVER, *flags]}


def make_hub(servers: dict, **tools) -> ToolHub:
    return ToolHub(parse_tools_config({"mcp": {"servers": servers}, "tools": tools}))


@pytest.fixture
async def hub():
    hub = make_hub({"t": stdio("--stderr-noise")}, timeout=5, max_result_bytes=4096)
    hub.start()
    await hub.wait_started(30)
    assert hub.status("t").state is ServerState.READY, hub.status("t").reason
    yield hub
    await hub.stop_all()


@pytest.fixture(scope="module")
def http_url():
    process = subprocess.Popen([sys.executable, SERVER, "--http"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}/mcp"
    finally:
        process.terminate()
        process.wait(10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # a zombie would still answer: this also says it was reaped
    except ProcessLookupError:
        return False
    return True


async def test_stdio_server_lists_its_tools_as_openai_functions(hub):
    status = hub.status("t")
    assert status.transport == "stdio" and status.reason is None
    names = {tool.safe_name for tool in hub.tools()}
    assert {"add", "sleep", "fail", "big", "hostile", "crash", "pid"} <= names
    assert "t__bad_name_" in names  # "bad name!" is not a name OpenAI accepts
    add = next(entry for entry in hub.openai_tools() if entry["function"]["name"] == "add")
    assert add["type"] == "function" and add["function"]["description"] == "Add two numbers."
    assert add["function"]["parameters"]["required"] == ["a", "b"]
    assert "noise line 29" in status.stderr_tail[-1] and len(status.stderr_tail) == 20


async def test_call_add(hub):
    result = await hub.call("add", '{"a": 2, "b": 40}')
    assert (result.text, result.is_error, result.truncated) == ("42", False, False)
    assert (await hub.call("t__bad_name_", "")).text == "ok"
    assert (await hub.call("t__add", '{"a": 1, "b": 1}')).text == "2"  # the qualified name always works


async def test_a_tool_that_raises_is_an_error_result(hub):
    result = await hub.call("fail", '{"message": "the disk is full"}')
    assert result.is_error and "the disk is full" in result.text


async def test_wrong_arguments_are_the_servers_error_for_the_model(hub):
    result = await hub.call("add", '{"a": "two"}')
    assert result.is_error and result.text


async def test_big_output_is_capped_and_says_so(hub):
    result = await hub.call("big", '{"n": 40}')
    assert result.truncated and result.total_bytes == 40 * 1024
    assert result.cut_bytes == 40 * 1024 - 4096
    assert result.text.endswith("[… 36,864 of 40,960 bytes cut: the result was longer than the 4,096-byte limit]")


def test_cap_cuts_on_a_character_boundary():
    from apertis_tui.core.tools.results import cap

    text, cut, total = cap("é" * 10, 5)  # two bytes each: the fifth byte is half a character
    assert text.startswith("éé\n[… 16 of 20 bytes cut") and (cut, total) == (16, 20)


async def test_hostile_text_is_cleaned(hub):
    result = await hub.call("hostile", "")
    assert "\x1b" not in result.text and "\x07" not in result.text and "\x9b" not in result.text
    assert result.text.startswith("[bold]x[/]")  # markup stays text: the UI shows it as such
    tool = hub.resolve("hostile")
    assert "\x1b" not in tool.description and "\x07" not in tool.description


async def test_non_text_content_is_described(hub):
    assert (await hub.call("picture", "")).text == "[image/png, 12 KB]"


async def test_invalid_argument_json_and_unknown_tool_are_sentences(hub):
    result = await hub.call("add", "{a: 1")
    assert result.is_error and result.text.startswith("The arguments for add are not valid JSON")
    result = await hub.call("add", "[1, 2]")
    assert result.is_error and result.text == "The arguments for add must be a JSON object, not a list."
    result = await hub.call("delete_everything", "{}")
    assert result.is_error and result.text.startswith("There is no tool named 'delete_everything'. The tools available")


async def test_a_call_past_the_timeout_is_stopped_and_the_server_goes_on():
    hub = make_hub({"t": stdio()}, timeout=0.5)
    hub.start()
    await hub.wait_started(30)
    try:
        result = await hub.call("sleep", '{"seconds": 30}')
        assert result.is_error
        assert result.text == "The tool sleep (server 't') did not finish within 0.5 seconds and was stopped."
        assert (await hub.call("add", '{"a": 1, "b": 2}')).text == "3"
    finally:
        await hub.stop_all()


async def test_cancel_mid_call(hub):
    task = asyncio.create_task(hub.call("sleep", '{"seconds": 30}'))
    while not hub._connections["t"]._running:  # the request is on its way
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert hub.status("t").state is ServerState.READY
    assert (await asyncio.wait_for(hub.call("add", '{"a": 1, "b": 2}'), 5)).text == "3"


async def test_parallel_calls(hub):
    results = await asyncio.gather(*(hub.call("add", f'{{"a": {n}, "b": 1}}') for n in range(5)))
    assert [r.text for r in results] == ["1", "2", "3", "4", "5"]


async def test_crash_mid_call_gives_the_sentence_and_the_hub_goes_on():
    hub = make_hub({"t": stdio(), "u": stdio()})
    hub.start()
    await hub.wait_started(30)
    try:
        result = await hub.call("t__crash", "")
        assert result.is_error and result.text == "The tool server 't' stopped while running crash."
        await hub._connections["t"].wait_settled()
        while hub.status("t").state is not ServerState.FAILED:
            await asyncio.sleep(0.01)  # the server's own task notices the death
        status = hub.status("t")
        assert status.reason.startswith("The tool server 't' stopped while running crash")
        assert "about to crash" in status.stderr_tail
        again = await hub.call("t__add", '{"a": 1, "b": 2}')
        assert again.is_error and again.text.startswith("The tool server 't' is not running")
        assert (await hub.call("u__add", '{"a": 1, "b": 2}')).text == "3"  # the other server goes on
        await hub.restart("t")
        await hub.wait_started(30)
        assert (await hub.call("t__add", '{"a": 1, "b": 2}')).text == "3"
    finally:
        await hub.stop_all()


async def test_servers_that_do_not_start_say_why():
    hub = make_hub(
        {
            "missing": {"command": "apertis-no-such-command"},
            "quits": stdio("--exit-at-once"),  # (it imports the SDK first: seconds on a busy machine)
            "nohttp": {"url": "http://127.0.0.1:9/mcp"},
        },
        start_timeout=30,
    )
    mute = make_hub({"mute": {"command": sys.executable, "args": ["-c", "import time; time.sleep(60)"]}},
                    start_timeout=1)
    hub.start()
    mute.start()
    assert all(status.state is ServerState.STARTING for status in hub.servers())
    await hub.wait_started(60)
    await mute.wait_started(30)
    try:
        reasons = {status.name: status.reason for status in hub.servers()}
        assert all(status.state is ServerState.FAILED for status in hub.servers())
        assert reasons["missing"] == (
            "The tool server 'missing' could not start: the command 'apertis-no-such-command' was not found."
        )
        assert reasons["quits"] == "The tool server 'quits' exited as soon as it started: cannot open the database"
        assert hub.status("quits").stderr_tail == ("cannot open the database",)
        assert mute.status("mute").state is ServerState.FAILED and mute.status("mute").reason == (
            "The tool server 'mute' did not answer within 1 second of starting (it never replied to initialize)."
        )
        assert reasons["nohttp"].startswith("The tool server 'nohttp' could not start (http://127.0.0.1:9/mcp): ")
        assert hub.tools() == [] and hub.openai_tools() == []
    finally:
        await hub.stop_all()
        await mute.stop_all()


async def test_stop_all_leaves_no_child(hub):
    pid = int((await hub.call("pid", "")).text)
    assert alive(pid)
    await hub.stop_all()
    assert not alive(pid)
    assert hub.status("t").state is ServerState.STOPPED


async def test_http_server_lists_and_calls(http_url):
    hub = make_hub({"web": {"url": http_url}, "t": stdio()}, timeout=5, max_result_bytes=1024)
    hub.start()
    await hub.wait_started(30)
    try:
        assert hub.status("web").state is ServerState.READY, hub.status("web").reason
        assert hub.status("web").transport == "http"
        # Both servers have every tool: each clash is sent under its qualified name.
        names = {tool.safe_name for tool in hub.tools()}
        assert {"web__add", "t__add", "web__sleep"} <= names and "add" not in names
        assert (await hub.call("web__add", '{"a": 20, "b": 22}')).text == "42"
        assert (await hub.call("web__big", '{"n": 3}')).truncated
        assert "\x1b" not in (await hub.call("web__hostile", "")).text
        assert "boom" in (await hub.call("web__fail", '{"message": "boom"}')).text
        task = asyncio.create_task(hub.call("web__sleep", '{"seconds": 30}'))
        while not hub._connections["web"]._running:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await asyncio.wait_for(hub.call("web__add", '{"a": 1, "b": 2}'), 5)).text == "3"
    finally:
        await hub.stop_all()


async def test_switched_off_tool_is_not_offered(hub):
    hub.set_tool_enabled("t", "big", False)
    assert "big" not in {entry["function"]["name"] for entry in hub.openai_tools()}
    assert (await hub.call("big", '{"n": 1}')).is_error
    await hub.restart("t")
    await hub.wait_started(30)
    assert not hub.resolve("big").enabled  # kept across a restart
    hub.set_tool_enabled("t", "big", True)
    assert (await hub.call("big", '{"n": 1}')).text.startswith("xxx")


async def test_apply_restarts_only_what_changed(hub):
    pid = int((await hub.call("pid", "")).text)
    same = parse_tools_config({"mcp": {"servers": {"t": stdio("--stderr-noise")}}, "tools": {"timeout": 5}})
    await hub.apply(same)
    assert hub.status("t").state is ServerState.READY and int((await hub.call("pid", "")).text) == pid
    changed = parse_tools_config({"mcp": {"servers": {"t": stdio(), "u": stdio()}}})
    await hub.apply(changed)
    assert not alive(pid)
    await hub.wait_started(30)
    assert {s.name: s.state for s in hub.servers()} == {"t": ServerState.READY, "u": ServerState.READY}


async def test_two_restarts_at_once_leave_one_running_server(hub):
    first = int((await hub.call("pid", "{}")).text)
    await asyncio.gather(hub.restart("t"), hub.restart("t"))
    await hub.wait_started(30)
    assert hub.status("t").state is ServerState.READY, hub.status("t").reason
    second = int((await hub.call("pid", "{}")).text)
    assert second != first and not alive(first)
