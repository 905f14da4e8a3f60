"""Hostile text: model ids, error bodies, chat titles and stored history full of Rich markup,
ANSI/OSC escapes, zero-width and right-to-left characters are shown as text; huge answers and
pastes go through without a crash and the app answers keys afterwards.

(Model output: tests/test_conversation.py::test_hostile_output_is_shown_as_text; pasted escapes:
test_pasted_escape_sequences_are_not_stored_or_shown; a hostile model id from the cache:
tests/test_model_picker.py.)
"""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest
from textual import events

import tests.fake_server as fake_module
from apertis_tui.core.api import ApertisClient
from apertis_tui.core.store.export import chat_to_json, chat_to_markdown
from apertis_tui.ui.screens.history import HistoryScreen
from apertis_tui.ui.screens.model_picker import ModelPicker
from tests.conftest import screen_text, wait_for
from tests.fake_server import HOSTILE_TEXT, long_markdown

SIZE = (120, 40)
# What must never reach the terminal: ESC, BEL, the C1 CSI, and bidi overrides/isolates.
NEVER = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\u2066", "\u2069")
MARKUP = "[bold]b[/bold] [@click=app.quit]q[/] [red on white]r[/] x[/]"
ESCAPES = "\x1b[2J\x1b[H \x1b]0;pwned\x07 \x1b]52;c;aGVsbG8=\x07 \x9b31m"
BIDI = "\u202eexe.live\u202c zero\u200bwidth \u2066iso\u2069"


def assert_safe(text: str) -> None:
    for bad in NEVER:
        assert bad not in text, f"{bad!r} reached the screen"


async def send(pilot, text: str) -> None:
    prompt = pilot.app.active_pane.prompt
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def answer_ends(pilot, timeout: float = 30) -> None:
    await wait_for(pilot, lambda: not pilot.app.active_pane.is_streaming, timeout, what="the answer to end")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def still_types(pilot) -> None:
    prompt = pilot.app.active_pane.prompt
    prompt.clear()
    await pilot.press("o", "k")
    assert prompt.text == "ok" and pilot.app.is_running
    prompt.clear()


# ---------------------------------------------------------------------------
# Model ids from the server's list


async def test_a_hostile_model_id_from_the_server_is_text_everywhere(make_app, monkeypatch):
    raw = f"evil/{MARKUP} {ESCAPES} {BIDI}"
    models = [*fake_module.MODELS, {"id": raw, "object": "model", "created": 1, "owned_by": f"[red]{ESCAPES}"}]
    monkeypatch.setattr(fake_module, "MODELS", models)
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), what="the picker")
        await app.workers.wait_for_complete()  # the list, fetched from the server
        await pilot.press(*"evil")
        await wait_for(pilot, lambda: app.screen.rows and app.screen.rows[0].id.startswith("evil/"), what="the row")
        picked = app.screen.rows[0].id
        assert_safe(picked)
        assert picked.startswith(f"evil/{MARKUP}")  # markup kept as text, escapes gone
        text = screen_text(app)
        assert_safe(text)
        assert "[bold]b[/bold] [@click=app.quit]q[/]" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), what="the picker to close")
        pane = app.active_pane
        assert pane.model == picked
        # The server knows the model by the id the app now sends, and answers.
        monkeypatch.setattr(fake_module, "_MODEL_ID_SET", frozenset([*fake_module.MODEL_IDS, picked]))
        await send(pilot, "hello")
        await answer_ends(pilot)
        answer = app.store.messages(pane.chat.id)[-1]
        assert answer.status == "complete" and answer.model == picked
        text = screen_text(app)
        assert_safe(text)
        assert f"hello  ·  {picked[:40]}" in text  # the title bar
        assert "evil/[bold]b[/bold] [@click=app.quit]q[/]" in pane.messages.views[-1]._lines[0].text  # the label
        assert "done · evil/[bold]b[/bold]" in text  # the status line
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="the history")
        await pilot.pause()
        assert_safe(screen_text(app))
        assert "evil/[bold]b[/bold]" in screen_text(app)
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen), what="back")
        await still_types(pilot)


# ---------------------------------------------------------------------------
# Error bodies, from a server (or proxy) that answers with anything


HOSTILE_DETAIL = f"{MARKUP} {ESCAPES} {BIDI} \r\n end"


def _sse(*events_: object) -> bytes:
    return b"".join(b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n" for e in events_)


BODIES = {
    "json-500": (500, {"Content-Type": "application/json"}, json.dumps({"error": {"message": HOSTILE_DETAIL}}).encode()),
    "string-error-403": (403, {"Content-Type": "application/json"}, json.dumps({"error": HOSTILE_DETAIL}).encode()),
    "plain-text-400": (400, {"Content-Type": "text/plain"}, HOSTILE_DETAIL.encode()),
    "detail-422": (422, {"Content-Type": "application/json"}, json.dumps({"detail": HOSTILE_DETAIL}).encode()),
    "mid-stream": (200, {"Content-Type": "text/event-stream"}, _sse(
        {"choices": [{"index": 0, "delta": {"content": "Half an "}}]},
        {"choices": [{"index": 0, "delta": {"content": "answer [b]x[/b] \x1b]0;t\x07"}}]},
        {"error": {"message": HOSTILE_DETAIL, "type": "upstream_error"}})),
}


@pytest.mark.parametrize("case", list(BODIES))
async def test_hostile_error_bodies_are_shown_as_text(make_app, fake_server, case):
    status, headers, body = BODIES[case]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=body)

    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        # A server that answers like this: the client's transport is swapped, nothing else.
        old, app.client = app.client, ApertisClient(fake_server.base_url, "test-key",
                                                    transport=httpx.MockTransport(answer))
        await old.aclose()
        await send(pilot, "hello")
        await answer_ends(pilot)
        message = app.store.messages(app.active_pane.chat.id)[-1]
        assert message.status == "error"
        for stored_text in (message.error, message.content):
            assert_safe(stored_text)
            assert "\r" not in stored_text
        assert "[@click=app.quit]q[/]" in message.error and "end" in message.error
        text = screen_text(app)
        assert_safe(text)
        assert "[bold]b[/bold] [@click=app.quit]q[/]" in text  # literally, in the error block
        if case == "mid-stream":
            assert message.content == "Half an answer [b]x[/b] ]0;t"
        await still_types(pilot)


# ---------------------------------------------------------------------------
# Titles: from a hostile first message, shown in the title bar, the tab, the history, the palette
# and the exports as text


async def test_a_hostile_first_message_makes_a_title_that_is_text_everywhere(make_app):
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        app.post_message(events.Paste(f"t[/] {MARKUP} {ESCAPES} {BIDI}\nsecond line"))
        await wait_for(pilot, lambda: "second line" in app.active_pane.prompt.text, what="the paste")
        await pilot.press("enter")
        await answer_ends(pilot)
        chat = app.store.get_chat(app.active_pane.chat.id)
        assert_safe(chat.title)
        assert chat.title.startswith("t[/] [bold]b[/bold] [@click=app.quit]q[/]")
        text = screen_text(app)
        assert_safe(text)
        assert "t[/] [bold]b[/bold]" in text.splitlines()[0]  # the tab
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="the palette")
        await pilot.press(*"Switch to")
        await wait_for(pilot, lambda: "Switch to: t[/] [bold]b[/bold]" in screen_text(app), what="the entry")
        assert_safe(screen_text(app))
        await pilot.press("escape")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="the history")
        await pilot.press(*"pwned")
        await wait_for(pilot, lambda: "]0;pwned" in screen_text(app), what="the hit's snippet")
        assert_safe(screen_text(app))
        assert app.is_running
    messages = app.store.messages(chat.id)
    for exported in (chat_to_markdown(chat, messages), chat_to_json(chat, messages)):
        assert_safe(exported)


# ---------------------------------------------------------------------------
# Text another program (or an older version) put in the history file


async def test_text_stored_by_another_program_is_shown_without_escapes(make_app, tmp_path):
    db = tmp_path / "history.db"
    app = make_app(db=db, session=tmp_path / "session.json")
    app.store.close()
    hostile = f"{MARKUP} {ESCAPES} {BIDI}"
    conn = sqlite3.connect(db)
    try:
        chat_id = conn.execute("INSERT INTO chats (title, model, params, created_at, updated_at) "
                               "VALUES (?, ?, '{}', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
                               (f"title {hostile}", f"model {ESCAPES}")).lastrowid
        parent = None
        for depth, (role, status) in enumerate((("user", "complete"), ("assistant", "error")), start=1):
            parent = conn.execute(
                "INSERT INTO messages (chat_id, parent_id, depth, role, content, reasoning, model, status, error, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '2025-01-01T00:00:01Z')",
                (chat_id, parent, depth, role, f"{role} {hostile}\n{HOSTILE_TEXT}", f"thinking {hostile}",
                 f"model {ESCAPES}" if role == "assistant" else None, status, f"error {hostile}")).lastrowid
        conn.execute("UPDATE chats SET current_id = ? WHERE id = ?", (parent, chat_id))
        conn.commit()
    finally:
        conn.close()
    (tmp_path / "session.json").write_text(json.dumps({"chats": [chat_id], "focused": 0}))
    app = make_app(db=db, session=tmp_path / "session.json")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.active_pane.messages.views) == 2, what="the stored chat")
        await pilot.press("ctrl+t")  # the reasoning too
        await pilot.pause()
        text = screen_text(app)
        assert "[@click=app.quit]q[/]" in text and app.is_running
        assert_safe(text)


# ---------------------------------------------------------------------------
# Sizes


async def test_a_one_megabyte_answer_arrives_whole_and_the_app_still_answers_keys(make_app, fake_server):
    tokens = 200_000  # 1.2 MB of Markdown; about 8 s on a 2-core VM, server in this process
    app = make_app(model="test/long")
    async with app.run_test(size=SIZE) as pilot:
        started = time.monotonic()
        await send(pilot, f"tokens={tokens}")
        await answer_ends(pilot, timeout=120)
        elapsed = time.monotonic() - started
        answer = app.store.messages(app.active_pane.chat.id)[-1]
        expected = long_markdown(tokens)
        assert len(expected.encode()) > 1_000_000
        assert answer.status == "complete" and answer.content == expected
        messages = app.active_pane.messages
        await wait_for(pilot, lambda: messages.scroll_y >= messages.max_scroll_y, what="the view at the end")
        last_words = expected.strip().splitlines()[-1].strip(" |`#>-*")[:20]
        await wait_for(pilot, lambda: last_words in screen_text(app), what="the last words on screen")
        await still_types(pilot)
    print(f"1 MB answer ({tokens} tokens): {elapsed:.1f} s")


async def test_a_50000_line_paste_is_sent_whole_and_the_app_still_answers_keys(make_app):
    lines = 50_000
    pasted = "\n".join(f"{n} [b]x[/]" for n in range(lines))
    app = make_app(model="gpt-4o")
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.active_pane.prompt
        prompt.focus()
        started = time.monotonic()
        app.post_message(events.Paste(pasted))  # as the terminal driver delivers a bracketed paste
        await wait_for(pilot, lambda: prompt.text == pasted, timeout=60, what="the paste")
        pasted_in = time.monotonic() - started
        await pilot.press("enter")
        await answer_ends(pilot, timeout=120)
        sent_in = time.monotonic() - started - pasted_in
        user, answer = app.store.messages(app.active_pane.chat.id)
        assert user.content == pasted and answer.status == "complete"
        assert len(app.active_pane.messages.views[0]._lines) >= lines
        await still_types(pilot)
    print(f"50,000-line paste ({len(pasted):,} characters): in the prompt after {pasted_in:.1f} s, "
          f"sent and answered {sent_in:.1f} s later")
