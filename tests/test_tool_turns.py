"""Tool calls in a chat, end to end: the real app (Pilot), the fake server's ``test/agent``
model calling the tools it is offered, and a real MCP server (tests/mcp_server.py) over stdio
or streamable HTTP. What is asserted is what the user sees, what is stored, and what the next
request carries."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from apertis_tui.core.settings.file import Settings
from apertis_tui.core.types import ChatTools
from tests.conftest import pane, reply_done, screen_text, send, wait_for
from tests.test_tools_hub import http_url  # noqa: F401  (the streamable-HTTP server, a fixture)

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def tool_settings(*flags: str, url: str | None = None, **tools) -> Settings:
    entry = {"url": url} if url else {"command": sys.executable, "args": [SERVER, *flags]}
    return Settings(extra={"mcp": {"servers": {"calc": entry}}, "tools": {"timeout": 10, **tools}})


async def started(pilot) -> None:
    """The app is up and its tool server ready."""
    app = pilot.app
    await wait_for(pilot, lambda: app.tools.hub is not None, what="the tool hub")
    await app.tools.wait_started(30)
    assert app.tools.hub.tools(), app.tools.hub.servers()


async def asked(pilot) -> None:
    """A call is asked about, and the question is drawn."""
    await wait_for(pilot, lambda: pane(pilot.app).approval.asking and "waiting for you" in screen_text(pilot.app),
                   timeout=20, what="the approval question")


def stored(app) -> list:
    chat = app.store.get_chat(pane(app).chat.id)
    return app.store.path_to(chat.current_id)


def last_request(fake_server) -> dict:
    return fake_server.chat_requests[-1]["json"]


def call_line(name: str, **args) -> str:
    return f"call {name} {json.dumps(args)}"


async def test_approved_call_runs_and_the_answer_follows(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=2, b=3))
        await asked(pilot)
        text = screen_text(app)
        assert "⚙ add · calc" in text and '"a": 2' in text and "y run" in text
        # The request offered the server's tools as OpenAI functions.
        offered = {t["function"]["name"] for t in last_request(fake_server)["tools"]}
        assert {"add", "sleep", "fail"} <= offered
        assert "tool_choice" not in last_request(fake_server)  # auto: the server's default
        await pilot.press("y")
        await reply_done(pilot)
        roles = [(m.role, m.status) for m in stored(app)]
        assert roles == [("user", "complete"), ("assistant", "complete"), ("tool", "complete"),
                         ("assistant", "complete")]
        assistant, result, answer = stored(app)[1:]
        assert assistant.tool_calls[0]["function"]["name"] == "add"
        assert result.content == "5" and result.model == "calc/add" and result.tool_call_id
        assert "Tool results:" in answer.content and "5" in answer.content
        # The second request carried the call and its result, in order.
        messages = last_request(fake_server)["messages"]
        assert [m["role"] for m in messages[-3:]] == ["user", "assistant", "tool"]
        assert messages[-1]["tool_call_id"] == messages[-2]["tool_calls"][0]["id"]
        text = screen_text(app)
        assert "↳ calc/add" in text and "Tool results:" in text


async def test_always_allows_the_tool_for_the_rest_of_the_chat(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=1, b=1))
        await asked(pilot)
        await pilot.press("a")
        await reply_done(pilot)
        assert app.store.get_chat(pane(app).chat.id).tools.always == ("calc/add",)
        requests = len(fake_server.chat_requests)
        await send(pilot, call_line("add", a=20, b=22))
        await reply_done(pilot)  # never asked: it would wait here for ever
        assert len(fake_server.chat_requests) == requests + 2
        result = [m for m in stored(app) if m.role == "tool"][-1]
        assert result.content == "42" and result.status == "complete"
        assert "always allowed in this chat" in screen_text(app)


async def test_refused_call_tells_the_model_and_the_turn_goes_on(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=1, b=1))
        await asked(pilot)
        await pilot.press("n")
        await reply_done(pilot)
        result, answer = stored(app)[-2:]
        assert (result.role, result.status) == ("tool", "refused")
        assert "refused" in result.content and "refused" in answer.content
        assert last_request(fake_server)["messages"][-1]["content"] == result.content
        assert "refused" in screen_text(app)


async def test_parallel_calls_are_listed_together_and_each_asked(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=1, b=2) + "\n" + call_line("add", a=3, b=4))
        await asked(pilot)
        text = screen_text(app)
        assert "2 tool calls at once" in text and "call 1 of 2" in text
        await pilot.press("y")
        await wait_for(pilot, lambda: "call 2 of 2" in screen_text(app), what="the second question")
        await pilot.press("y")
        await reply_done(pilot)
        results = [m.content for m in stored(app) if m.role == "tool"]
        assert sorted(results) == ["3", "7"]
        messages = last_request(fake_server)["messages"]
        assert [m["role"] for m in messages[-3:]] == ["assistant", "tool", "tool"]
        assert {m["tool_call_id"] for m in messages[-2:]} == {c["id"] for c in messages[-3]["tool_calls"]}


async def test_escape_stops_a_running_call_and_the_turn(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("sleep", seconds=30))
        await asked(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: "running" in screen_text(app) and "esc stops" in screen_text(app),
                       what="the running call")
        requests = len(fake_server.chat_requests)
        await pilot.press("escape")
        await reply_done(pilot)
        result = stored(app)[-1]
        assert (result.role, result.status) == ("tool", "stopped") and "Stopped by the user" in result.content
        assert len(fake_server.chat_requests) == requests  # the turn ended: the model was not asked again
        assert "Turn stopped" in screen_text(app)
        # The server is still there for the next call.
        await send(pilot, call_line("add", a=1, b=1))
        await asked(pilot)
        await pilot.press("y")
        await reply_done(pilot)
        assert stored(app)[-2].content == "2"


async def test_escape_while_asking_stops_the_turn_and_marks_the_call(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=1, b=1))
        await asked(pilot)
        await pilot.press("escape")
        await reply_done(pilot)
        result = stored(app)[-1]
        assert (result.role, result.status, result.content) == ("tool", "stopped", "Not run: the user stopped the turn.")
        assert not pane(app).approval.asking


async def test_a_call_past_the_timeout_is_an_error_for_the_model(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings(timeout=1))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("sleep", seconds=10))
        await asked(pilot)
        await pilot.press("y")
        await reply_done(pilot)
        result, answer = stored(app)[-2:]
        assert result.status == "error" and "did not finish within 1 s" in result.content
        assert "did not finish" in answer.content


async def test_round_limit_stops_a_turn_that_keeps_calling(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings(max_rounds=2))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        pane(app).set_chat_tools(ChatTools(always=("calc/add",)))
        await send(pilot, "loop\n" + call_line("add", a=1, b=1))
        await reply_done(pilot)
        assert len(fake_server.chat_requests) == 3  # two rounds ran; the third answer's calls did not
        last = stored(app)[-1]
        assert (last.role, last.status) == ("tool", "stopped") and "limit of 2 tool rounds" in last.content
        assert "Stopped after 2 rounds" in screen_text(app)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("call add {bad", "are not valid JSON"),
        (call_line("add", a=1), "'b' is required"),
        (call_line("add", a="one", b=2), "'a' must be number"),
        (call_line("nosuch"), "There is no tool named 'nosuch'"),
    ],
)
async def test_calls_that_cannot_run_go_back_to_the_model_without_asking(make_app, fake_server, line, said):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, line)
        await reply_done(pilot)  # nothing to approve
        result, answer = stored(app)[-2:]
        assert result.status == "error" and said in result.content
        assert said in answer.content  # the model was told, and answered
        assert "failed" in screen_text(app)


@pytest.mark.parametrize(("call", "said"), [
    (call_line("fail", message="the disk is on fire"), "the disk is on fire"),
    (call_line("crash"), "stopped while running crash"),
])
async def test_a_tool_that_fails_or_a_server_that_dies_is_a_result(make_app, fake_server, call, said):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call)
        await asked(pilot)
        await pilot.press("y")
        await reply_done(pilot)
        result, answer = stored(app)[-2:]
        assert result.status == "error" and said in result.content
        assert answer.role == "assistant" and answer.status == "complete"
        assert said in screen_text(app)


async def test_tool_output_is_untrusted_text_capped_and_folded(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings(max_result_bytes=4096))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        pane(app).set_chat_tools(ChatTools(always=("calc/hostile", "calc/big")))
        await send(pilot, call_line("hostile") + "\n" + call_line("big", n=40))
        await reply_done(pilot)
        results = {m.model: m for m in stored(app) if m.role == "tool"}
        hostile, big = results["calc/hostile"], results["calc/big"]
        assert "\x1b" not in hostile.content and "\x9b" not in hostile.content
        assert "[bold]x[/]" in screen_text(app)  # shown as typed, not as markup
        assert len(big.content.encode()) < 4096 + 200 and "bytes cut" in big.content
        sent = [m for m in last_request(fake_server)["messages"] if m["role"] == "tool"]
        assert any("bytes cut" in m["content"] for m in sent)
        text = screen_text(app)
        assert "more lines" in text and "result cut" in text  # folded, and the cut said on screen
        # Selected, o unfolds the result.
        await pilot.press("ctrl+up")
        while pane(app).messages.selected.message.id != big.id:
            await pilot.press("up")
        await pilot.press("o")
        assert pane(app).messages.selected.unfolded


async def test_tool_choice_and_tools_off_are_sent_as_chosen(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        pane(app).set_chat_tools(ChatTools(choice="required"))
        await send(pilot, "hello")
        await reply_done(pilot)
        assert last_request(fake_server)["tool_choice"] == "required"
        pane(app).set_chat_tools(ChatTools(choice="add"))
        await send(pilot, "again")
        await reply_done(pilot)
        assert last_request(fake_server)["tool_choice"] == {"type": "function", "function": {"name": "add"}}
        pane(app).set_chat_tools(ChatTools(enabled=False))
        await send(pilot, "no tools now")
        await reply_done(pilot)
        assert "tools" not in last_request(fake_server) and "tool_choice" not in last_request(fake_server)
        assert "tools off" in screen_text(app)  # the title bar says the chat differs from the default
        assert app.store.get_chat(pane(app).chat.id).tools.enabled is False


async def test_tools_false_in_the_settings_sends_none(make_app, fake_server):
    settings = tool_settings()
    settings.extra["tools"] = False
    app = make_app(model="test/agent", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
        assert "tools" not in last_request(fake_server)


async def test_a_model_that_refuses_tools_offers_to_turn_them_off(make_app, fake_server):
    app = make_app(model="test/no-tools", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "Turn tools off for this chat and ask again?" in getattr(app.screen, "question", ""),
                       what="the offer")
        failed = stored(app)[-1]
        assert failed.status == "error" and "does not accept tools" in failed.error
        await pilot.press("y")
        await wait_for(pilot, lambda: stored(app)[-1].status == "complete" and stored(app)[-1].id != failed.id,
                       what="the answer without tools")
        assert "tools" not in last_request(fake_server)
        assert app.store.get_chat(pane(app).chat.id).tools.enabled is False


async def test_a_server_that_does_not_start_is_said_and_the_chat_goes_on(make_app, fake_server, tmp_path):
    settings = Settings(extra={"mcp": {"servers": {"gone": {"command": str(tmp_path / "no-such-program")}}}})
    app = make_app(model="test/agent", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.tools.hub is not None, what="the tool hub")
        await app.tools.wait_started(30)
        await wait_for(pilot, lambda: any("The tool server 'gone' could not start: the command" in n.message
                                          and "was not found" in n.message for n in app._notifications),
                       what="the notification")
        await send(pilot, "hello")
        await reply_done(pilot)
        assert "tools" not in last_request(fake_server)  # nothing to offer
        assert stored(app)[-1].status == "complete"


async def test_a_stored_tool_conversation_comes_back_after_a_restart(make_app, fake_server, tmp_path):
    settings = tool_settings()
    app = make_app(model="test/agent", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=2, b=3))
        await asked(pilot)
        await pilot.press("y")
        await reply_done(pilot)
        chat_id = pane(app).chat.id
    again = make_app(model="test/agent", settings=tool_settings())
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: pane(again).chat is not None and pane(again).chat.id == chat_id,
                       what="the chat restored")
        await wait_for(pilot, lambda: "↳ calc/add" in screen_text(again), what="the stored result")
        text = screen_text(again)
        assert "⚙ add" in text and '"b": 3' in text and "Tool results:" in text
        await send(pilot, "thanks")
        await reply_done(pilot)
        messages = last_request(fake_server)["messages"]
        roles = [m["role"] for m in messages]
        assert roles[-5:] == ["user", "assistant", "tool", "assistant", "user"]
        assert messages[-4]["tool_calls"][0]["id"] == messages[-3]["tool_call_id"]
        # Searchable and exported.
        assert any(hit.chat_id == chat_id for hit in again.store.search("results"))
        from apertis_tui.core.store.export import chat_to_markdown

        chat = again.store.get_chat(chat_id)
        markdown = chat_to_markdown(chat, again.store.messages(chat_id))
        assert "Tool calls:" in markdown and '"name": "add"' in markdown
        assert "Tool result: calc/add" in markdown and "```text\n5\n```" in markdown


async def test_a_streamable_http_server_works_the_same(make_app, fake_server, http_url):
    app = make_app(model="test/agent", settings=tool_settings(url=http_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=40, b=2))
        await asked(pilot)
        await pilot.press("y")
        await reply_done(pilot)
        assert [m.content for m in stored(app) if m.role == "tool"] == ["42"]


async def test_the_tool_servers_stop_with_the_app(make_app, fake_server):
    import os

    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        pane(app).set_chat_tools(ChatTools(always=("calc/pid",)))
        await send(pilot, call_line("pid"))
        await reply_done(pilot)
        pid = int([m.content for m in stored(app) if m.role == "tool"][-1])
    # (run_test's exit ran on_unmount, which waits for the servers to stop)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_the_question_gets_the_keys_back_after_selecting_messages(make_app, fake_server):
    app = make_app(model="test/agent", settings=tool_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await send(pilot, call_line("add", a=1, b=1))
        await asked(pilot)
        await pilot.press("ctrl+up")  # look at the call's arguments more closely...
        assert app.focused is pane(app).messages
        await pilot.press("escape")  # ...and back: the question has the keys again, not the prompt
        assert app.focused is pane(app).approval
        await pilot.press("y")
        await reply_done(pilot)
        assert stored(app)[-2].content == "2" and pane(app).prompt.text == ""
