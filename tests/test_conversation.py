"""The conversation screen, driven through Pilot against the fake server."""

from __future__ import annotations

import os
import stat
import tomllib

import pytest
from textual import events

from apertis_tui.ui.screens.key_dialog import KeyDialog
from apertis_tui.ui.widgets.chat_pane import last_code_block
from tests.conftest import pane, reply_done, screen_text, send, wait_for
from tests.fake_server import normal_answer

SIZE = (110, 40)


def stored(app):
    chat = pane(app).chat
    assert chat is not None, "no chat was stored"
    return app.store.messages(chat.id)


async def test_send_shows_streamed_markdown_and_stores_both_messages(make_app, fake_server):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello there")
        await reply_done(pilot)
        expected = normal_answer("gpt-4o", [{"role": "user", "content": "hello there"}])
        user, answer = stored(app)
        assert (user.role, user.content, user.status) == ("user", "hello there", "complete")
        assert (answer.role, answer.model, answer.status) == ("assistant", "gpt-4o", "complete")
        assert answer.content == expected
        assert answer.completion_tokens and answer.prompt_tokens
        text = screen_text(app)
        assert "You" in text and "hello there" in text
        assert "gpt-4o" in text  # the reply's model label
        assert "def greet(name: str) -> str:" in text  # the code block, rendered
        assert "**gpt-4o**" not in text  # Markdown rendered, not shown raw
        assert pane(app).status.state == "done"
        assert pane(app).prompt.text == ""  # the prompt was cleared
        # The title comes from the first message.
        assert app.store.get_chat(pane(app).chat.id).title == "hello there"


async def test_request_carries_whole_history(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        await reply_done(pilot)
        await send(pilot, "second")
        await reply_done(pilot)
    bodies = [r["json"] for r in fake_server.requests if r["path"].endswith("/chat/completions")]
    assert [m["role"] for m in bodies[-1]["messages"]] == ["user", "assistant", "user"]
    assert bodies[-1]["messages"][0]["content"] == "first"
    assert bodies[-1]["messages"][2]["content"] == "second"


async def test_empty_prompt_is_not_sent_and_ctrl_j_inserts_newline(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.press("space", "space", "enter")
        await pilot.pause()
        assert pane(app).chat is None
        assert not [r for r in fake_server.requests if r["path"].endswith("/chat/completions")]
        pane(app).prompt.clear()
        await pilot.press("a", "ctrl+j", "b")
        assert pane(app).prompt.text == "a\nb"
        await pilot.press("enter")
        await reply_done(pilot)
        assert stored(app)[0].content == "a\nb"


async def test_multiline_paste_is_sent_whole(make_app):
    app = make_app()
    pasted = "\n".join(f"line {n} [bold]{n}[/]" for n in range(2000))
    async with app.run_test(size=SIZE) as pilot:
        prompt = pane(app).prompt
        prompt.focus()
        app.post_message(events.Paste(pasted))  # as the terminal driver does
        await wait_for(pilot, lambda: prompt.text == pasted, what="the paste")
        await pilot.press("enter")
        await reply_done(pilot)
        assert stored(app)[0].content == pasted
        assert stored(app)[1].status == "complete"
        user_view = pane(app).messages.views[0]
        assert [s.text.rstrip() for s in user_view._lines[-2:]] == ["line 1998 [bold]1998[/]", "line 1999 [bold]1999[/]"]


async def test_escape_stops_and_keeps_the_partial_reply(make_app, fake_server):
    app = make_app(model="test/slow")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell me")
        await wait_for(pilot, lambda: len(pane(app).messages.views) == 2 and len(pane(app).messages.views[-1].text) > 10,
                       what="some streamed text")
        await pilot.press("escape")
        await reply_done(pilot)
        answer = stored(app)[-1]
        assert answer.status == "stopped"
        assert len(answer.content) > 10
        full = normal_answer("test/slow", [{"role": "user", "content": "tell me"}])
        assert full.startswith(answer.content) and answer.content != full
        assert pane(app).messages.views[-1].text == answer.content
        assert "stopped" in screen_text(app)


async def test_reasoning_goes_in_a_collapsed_block(make_app):
    app = make_app(model="test/reasoning")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "think")
        await reply_done(pilot)
        answer = stored(app)[-1]
        assert answer.reasoning and answer.content
        view = pane(app).messages.views[-1]
        text = screen_text(app)
        assert "▸ Reasoning" in text
        assert answer.reasoning.split(".")[0] not in text  # collapsed
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert view.reasoning_open
        assert answer.reasoning.split(".")[0] in screen_text(app)


@pytest.mark.parametrize(
    ("model", "phrase"),
    [
        ("test/err-401", "Your API key was rejected (401)"),
        ("test/err-402", "run out of credit (402)"),
        ("test/err-403-quota", "run out of credit (403)"),
        ("test/err-403", "refused the request (403)"),
        ("test/err-404", "is not available with your key"),
        ("test/err-503-model", "Model test/err-503-model is not available with your key"),
        ("test/err-429", "Wait 7 s"),
        ("test/err-429-empty", "rate-limiting"),
        ("test/err-500", "server had a problem (500)"),
        ("test/err-502-html", "server had a problem (502)"),
        ("test/err-400", "rejected the request (400)"),
        ("test/cut", "closed in the middle of the answer"),
        ("test/midstream-error", "Upstream provider overloaded"),
        ("test/bad-json", "not valid JSON"),
    ],
)
async def test_errors_show_inline_and_the_app_stays_usable(make_app, model, phrase):
    app = make_app(model=model)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        user, answer = stored(app)
        assert user.content == "hi"  # the prompt is not lost
        assert answer.status == "error" and phrase in answer.error
        flat = " ".join(screen_text(app).split())
        assert phrase in flat.replace("│", "").replace("  ", " ") or phrase in " ".join(
            s.text for s in pane(app).messages.views[-1]._lines)
        assert "ctrl+g retries" in screen_text(app)
        # Still usable: the prompt takes text, and a retry makes another request.
        await pilot.press("x")
        assert pane(app).prompt.text == "x"


async def test_wrong_key_then_retry_succeeds(make_app, fake_server):
    app = make_app(key="wrong-key-123456789")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        assert stored(app)[-1].status == "error"
        assert "wrong-key-123456789"[:8] not in screen_text(app)
        await app.use_key("test-key")
        await pilot.press("ctrl+g")
        await reply_done(pilot)
        messages = stored(app)
        assert [m.status for m in messages] == ["complete", "error", "complete"]
        assert messages[1].parent_id == messages[2].parent_id == messages[0].id  # the failed try is a sibling
        visible = [v.message.status for v in pane(app).messages.views]
        assert visible == ["complete", "complete"]
        assert pane(app).messages.views[-1].versions == (2, 2)


async def test_hostile_output_is_shown_as_text(make_app):
    app = make_app(model="test/hostile")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        answer = stored(app)[-1]
        assert answer.status == "complete"
        for bad in ("\x1b", "\x07", "\x9b", "\x00", "\r"):
            assert bad not in answer.content
        text = screen_text(app)
        assert "\x1b" not in text
        assert "[bold]" in text and "[/]" in text
        assert app.is_running  # [@click=app.quit] did nothing


async def test_copy_reply_and_code_block(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        await pilot.press("f3")
        assert app.clipboard == stored(app)[-1].content
        pane(app).copy_last_code_block()
        assert app.clipboard == 'def greet(name: str) -> str:\n    return f"Hello, {name}!"'


def test_last_code_block_finds_the_last_fence():
    text = "a\n```py\nx = 1\n```\n\n~~~\ny\n~~~\n"
    assert last_code_block(text) == "y"
    assert last_code_block("no code") is None


async def test_regenerate_adds_another_version_of_the_last_reply(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        await pilot.press("ctrl+g")
        await reply_done(pilot)
        rows = [(m.role, m.status, m.parent_id) for m in stored(app)]
        first = stored(app)[0].id
        assert rows == [("user", "complete", None), ("assistant", "complete", first), ("assistant", "complete", first)]
        assert len(pane(app).messages.views) == 2
        assert pane(app).messages.views[-1].versions == (2, 2)
        assert "‹ 2/2 ›" in screen_text(app)
    last = [r["json"] for r in fake_server.requests if r["path"].endswith("/chat/completions")][-1]
    assert [m["role"] for m in last["messages"]] == ["user"]  # the other version is not context


async def test_first_run_key_dialog_saves_the_config(make_app, tmp_path):
    app = make_app(key=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, KeyDialog), what="the key dialog")
        await pilot.press(*"test-key")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, KeyDialog), what="the dialog to close")
        path = tmp_path / "config" / "config.toml"
        assert tomllib.loads(path.read_text())["api_key"] == "test-key"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        await send(pilot, "hi")
        await reply_done(pilot)
        assert stored(app)[-1].status == "complete"


async def test_first_run_escape_lets_the_user_in(make_app, tmp_path):
    app = make_app(key=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, KeyDialog), what="the key dialog")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, KeyDialog), what="the dialog to close")
        assert not (tmp_path / "config" / "config.toml").exists()
        await send(pilot, "hi")
        await reply_done(pilot)
        answer = stored(app)[-1]
        assert answer.status == "error" and "No API key" in answer.error


async def test_prompt_from_the_command_line_is_sent_at_once(make_app):
    app = make_app(prompt="from the shell")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: pane(app).chat is not None, what="the chat")
        await reply_done(pilot)
        user, answer = stored(app)
        assert user.content == "from the shell" and answer.status == "complete"


async def test_f1_shows_every_key(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert type(app.screen).__name__ == "KeysScreen"
        text = screen_text(app)
        for words in ("Regenerate", "Copy reply", "Stop", "New chat", "Close chat", "Quit", "alt+1 … alt+9"):
            assert words in text, words


async def test_long_answer_is_followed_to_its_end(make_app):
    app = make_app(model="test/long")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tokens=3000")
        await reply_done(pilot)
        messages = pane(app).messages
        await wait_for(pilot, lambda: messages.scroll_y >= messages.max_scroll_y, what="the view at the end")
        assert stored(app)[-1].status == "complete"
        last_line = stored(app)[-1].content.strip().splitlines()[-1].strip(" |`#>-*")
        assert last_line[:20] in screen_text(app)


async def test_scrolling_up_stops_following_and_end_jumps_back(make_app, fake_server):
    fake_server.rate = 800
    app = make_app(model="test/long")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tokens=15000")
        messages = pane(app).messages
        await wait_for(pilot, lambda: messages.max_scroll_y > 60, what="a long answer")
        await pilot.press("pageup")
        await pilot.pause()
        held = messages.scroll_y
        assert held < messages.max_scroll_y
        grown = messages.max_scroll_y
        await wait_for(pilot, lambda: messages.max_scroll_y > grown + 20, what="more text")
        assert messages.scroll_y == held  # the view stayed where the user put it
        await pilot.press("end")
        await wait_for(pilot, lambda: messages.scroll_y >= messages.max_scroll_y - 1, what="the jump to the end")
        grown = messages.max_scroll_y
        await wait_for(pilot, lambda: messages.max_scroll_y > grown + 20, what="more text")
        await pilot.pause()
        assert messages.scroll_y >= messages.max_scroll_y - 2  # following again
        await pilot.press("escape")
        await reply_done(pilot)


async def test_pasted_escape_sequences_are_not_stored_or_shown(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.post_message(events.Paste("look \x1b]0;pwned\x07 \x1b[2J here\r\nand \u202eevil"))
        await wait_for(pilot, lambda: "look" in pane(app).prompt.text, what="the paste")
        await pilot.press("enter")
        await reply_done(pilot)
        user = stored(app)[0]
        assert user.content == "look ]0;pwned [2J here\nand evil"
        assert "\x1b" not in screen_text(app)


async def test_a_fast_burst_of_keys_is_applied_in_order(make_app):
    """Keys that arrive together (a macro, a paste without bracketed paste, a busy machine)
    keep their order: bound editing keys are not overtaken by the characters after them."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = pane(app).prompt
        prompt.focus()
        await pilot.pause()
        burst = [("1", "1"), ("2", "2"), ("backspace", None), ("3", "3"), ("ctrl+u", None), ("x", "x"),
                 ("y", "y"), ("left", None), ("z", "z")]
        for key, character in burst:  # posted without waiting, as a terminal read delivers them
            app.post_message(events.Key(key, character))
        await wait_for(pilot, lambda: prompt.text == "xzy", what=f"the burst applied in order, got {prompt.text!r}")


async def test_text_and_enter_in_one_burst_sends_the_text(make_app):
    """"hello⏎" arriving in one read (typed fast, sent by tmux or a macro) sends "hello": Enter
    does not overtake the characters before it and send an empty prompt."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = pane(app).prompt
        prompt.focus()
        await pilot.pause()
        for key, character in [("h", "h"), ("i", "i"), ("enter", "\r")]:
            app.post_message(events.Key(key, character))
        await reply_done(pilot)
        assert [m.content for m in stored(app)][:1] == ["hi"]
        assert prompt.text == ""
        assert "You" in screen_text(app) and "hi" in screen_text(app)
