"""The history screen (ctrl+r), driven through Pilot against the real store and fake server."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from apertis_tui.core.timefmt import relative_time
from apertis_tui.core.types import HIGHLIGHT_END, HIGHLIGHT_START
from apertis_tui.ui.screens.conversation import ConversationScreen
from apertis_tui.ui.screens.history import PAGE, HistoryScreen
from apertis_tui.ui.screens.history.dialogs import ExportDialog
from apertis_tui.ui.screens.history.rows import snippet_text
from apertis_tui.ui.screens.history.widgets import RenameInput
from apertis_tui.ui.screens.confirm import ConfirmDialog
from tests.conftest import screen_text, wait_for

SIZE = (120, 36)


# ---------------------------------------------------------------------------
# helpers


def set_updated(store, chat_id: int, when: str) -> None:
    with store.db.conn:
        store.db.conn.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (when, chat_id))


def chat_with(store, title: str, *turns: tuple[str, str], model: str = "gpt-4o"):
    """A chat with (user text, reply text) turns; replies written by ``model``."""
    chat = store.create_chat(model, title=title)
    for question, answer in turns:
        store.add_message(chat.id, "user", question)
        reply = store.start_assistant(chat.id, model)
        store.finish_message(reply.id, content=answer, status="complete", prompt_tokens=5, completion_tokens=7)
    return chat


async def open_history(pilot) -> HistoryScreen:
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen) and pilot.app.screen.rows_shown(),
                   what="the history screen")
    await pilot.pause()
    return pilot.app.screen


async def search(pilot, screen: HistoryScreen, query: str) -> None:
    screen.search_input.value = query
    await wait_for(pilot, lambda: screen.query_text == query or (not query.strip() and not screen.searching),
                   what=f"the search for {query!r}")
    await pilot.pause()


def lines(app) -> list[str]:
    return screen_text(app).splitlines()


def line_with(app, needle: str) -> int:
    for number, text in enumerate(lines(app)):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} is not on the screen:\n{screen_text(app)}")


async def highlight(pilot, screen: HistoryScreen, chat_id: int) -> None:
    index = next(i for i, row in enumerate(screen.rows) if row.chat_id == chat_id)
    screen.option_list.highlighted = index
    await pilot.pause()


# ---------------------------------------------------------------------------
# pure helpers


def test_relative_time() -> None:
    now = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
    iso = lambda delta: (now - delta).isoformat().replace("+00:00", "Z")  # noqa: E731
    assert relative_time(iso(timedelta(seconds=5)), now) == "just now"
    assert relative_time(iso(timedelta(minutes=5)), now) == "5 min ago"
    assert relative_time("2025-01-02T03:04:05.000Z", now) == "2025-01-02"
    assert relative_time("not a time", now) == ""
    assert relative_time(iso(timedelta(days=3)), now) == "3 days ago"


def test_snippet_text_styles_the_match_and_parses_no_markup() -> None:
    text = snippet_text(f"…a [bold]x[/] \x1b]52;c;Zm9v\x07 {HIGHLIGHT_START}needle{HIGHLIGHT_END}\nrest…", "reverse")
    assert text.plain == "…a [bold]x[/] ]52;c;Zm9v needle rest…"  # controls gone, markup left as text
    [span] = text.spans
    assert text.plain[span.start:span.end] == "needle" and span.style == "reverse"


# ---------------------------------------------------------------------------
# the list


async def test_lists_chats_newest_first_with_models_activity_and_count(make_app) -> None:
    app = make_app()
    old = chat_with(app.store, "Tomato growing", ("how deep", "two cm"), ("when", "spring"), model="model-alpha")
    reply = app.store.start_assistant(old.id, "model-beta")
    app.store.finish_message(reply.id, content="second opinion", status="complete")
    other = app.store.start_assistant(old.id, "model-gamma", parent_id=reply.parent_id)  # another version
    app.store.finish_message(other.id, content="replaced", status="complete")
    app.store.set_current(old.id, reply.id)
    new = chat_with(app.store, "Rust [bold]lifetimes[/]", ("why", "because"))
    set_updated(app.store, old.id, "2024-03-04T05:06:07.000Z")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        assert [row.chat_id for row in screen.rows] == [new.id, old.id]
        assert line_with(app, "Rust [bold]lifetimes[/]") < line_with(app, "Tomato growing")  # markup shown as text
        row = lines(app)[line_with(app, "Tomato growing")]
        assert "model-alpha, model-beta" in row  # (model-gamma's version may be cut off by the width)
        assert "2024-03-04" in row and row.rstrip().endswith("5")  # 2 turns + 1 reply: the current path
        assert "just now" in lines(app)[line_with(app, "Rust")]
        assert "2 chats" in screen_text(app)
        assert "Rename" in screen_text(app) and "Delete" in screen_text(app)  # the Footer shows the keys


async def test_empty_history_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        assert "No chats yet" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen), what="the conversation")


async def test_rows_load_page_by_page(make_app) -> None:
    app = make_app()
    ids = [app.store.create_chat("m", title=f"chat {n:03}").id for n in range(2 * PAGE + 30)]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        assert len(screen.rows) == PAGE  # only the first page at first
        assert screen.rows[0].chat_id == ids[-1]
        screen.option_list.focus()
        await pilot.press("end")  # to the last loaded row: the next page comes
        await wait_for(pilot, lambda: len(screen.rows) == 2 * PAGE, what="the second page")
        # Scrolling (mouse wheel, scrollbar) loads too, not only the highlight.
        screen.option_list.scroll_end(animate=False, immediate=True)
        await wait_for(pilot, lambda: len(screen.rows) == len(ids), what="the last page")
        assert [row.chat_id for row in screen.rows] == ids[::-1]  # every chat once, newest first
        await pilot.press("end")
        await pilot.pause()
        assert "chat 000" in screen_text(app)


# ---------------------------------------------------------------------------
# search


async def test_typing_searches_titles_and_messages_with_highlighted_snippets(make_app) -> None:
    app = make_app()
    db = chat_with(app.store, "Database notes", ("is sqlite ok?", "Use PRAGMA journal_mode=WAL [b]x[/b] here."))
    chat_with(app.store, "Walruses of the Arctic", ("tell me", "They are big."))
    chat_with(app.store, "Unrelated", ("nothing", "to see"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        await pilot.press(*"wal")  # typed as a user types it
        await wait_for(pilot, lambda: screen.query_text == "wal" and len(screen.rows) == 2, what="two hits")
        await pilot.pause()
        text = screen_text(app)
        assert "Database notes" in text and "Walruses of the Arctic" in text and "Unrelated" not in text
        assert "journal_mode=WAL [b]x[/b] here." in text  # the snippet, markup shown as typed
        assert HIGHLIGHT_START not in text and HIGHLIGHT_END not in text
        assert "2 matches" in text
        message_row = next(row for row in screen.rows if row.chat_id == db.id)
        assert message_row.message_id is not None and message_row.message.role == "assistant"
        title_row = next(row for row in screen.rows if row.chat_id != db.id)
        assert title_row.message_id is None  # a title hit
        # The match is styled on screen: the cells of "WAL" carry the match style, the rest does not.
        match_style = screen.option_list.get_component_rich_style("history--match", partial=True)
        y = line_with(app, "journal_mode=WAL")
        strip = app.screen._compositor.render_strips()[y]
        styled = "".join(seg.text for seg in strip if seg.style and seg.style.bgcolor == match_style.bgcolor)
        assert styled.strip().lower() == "wal"
        # Several words: all must appear.
        await search(pilot, screen, "journal sqlite")
        assert screen.rows == []
        assert "No title or message contains “journal sqlite”" in screen_text(app)
        await search(pilot, screen, "journal pragma")
        assert [row.chat_id for row in screen.rows] == [db.id]
        # Clearing the field brings the list back.
        await search(pilot, screen, "")
        assert not screen.searching and len(screen.rows) == 3


HOSTILE = ['"', "*", "-", ":", "(", ")", "AND", "OR", "NOT", "NEAR(", "NEAR(a b, 2)", "sql*", '"unterminated',
           "content:sqlite", "-sqlite", "a AND", "[bold]", "[/]", "[@click=app.quit]", "\\", "'; DROP TABLE chats; --"]


async def test_hostile_queries_never_raise_and_explain(make_app) -> None:
    app = make_app()
    chat_with(app.store, "SQLite and NEAR operators", ("sqlite AND near", "content: here"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        for query in HOSTILE:
            await search(pilot, screen, query)
            assert screen.searching
            if not any(ch.isalnum() for ch in query):
                assert "Type letters or digits" in screen_text(app), query
        await pilot.press(*"(*:")  # typed, too
        await pilot.pause(0.2)
        assert app.is_running and isinstance(app.screen, HistoryScreen)
        await search(pilot, screen, "near AND")  # operators are words: the message and the title
        assert sorted(row.message_id is None for row in screen.rows) == [False, True]
        assert app.store.count_chats() == 1


# ---------------------------------------------------------------------------
# resume


async def test_enter_opens_the_chat_at_the_matched_message_and_it_continues(make_app, fake_server) -> None:
    app = make_app()
    turns = [(f"question {n}", f"answer {n}") for n in range(40)]
    turns[2] = ("where is zanzibar?", "Off the coast of Tanzania.")
    chat = chat_with(app.store, "Long geography chat", *turns, model="gpt-4o")
    target = next(m for m in app.store.messages(chat.id) if "zanzibar" in m.content)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        await pilot.press(*"zanzib")
        await wait_for(pilot, lambda: screen.query_text == "zanzib" and screen.rows, what="the hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen) and app.active_pane.chat is not None
                       and app.active_pane.chat.id == chat.id, what="the chat in front")
        pane = app.active_pane

        def target_visible() -> bool:
            views = [v for v in pane.messages.views if v.message.id == target.id]
            return bool(views) and views[0].region.overlaps(pane.messages.region)

        await wait_for(pilot, target_visible, what="the matched message on screen")
        await pilot.pause()
        assert "where is zanzibar?" in screen_text(app)
        # It continues from there, with its own model and all of its history.
        pane.prompt.focus()
        pane.prompt.insert("and its capital?")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: not pane.is_streaming, what="the reply")
        stored = app.store.messages(chat.id)
        assert stored[-2].content == "and its capital?" and stored[-1].model == "gpt-4o"
        assert stored[-1].status == "complete"
        body = [r["json"] for r in fake_server.requests if r["path"].endswith("/chat/completions")][-1]
        assert body["model"] == "gpt-4o" and len(body["messages"]) == 81


async def test_opening_an_open_chat_focuses_its_tab(make_app) -> None:
    app = make_app()
    chat = chat_with(app.store, "Already open", ("hello", "hi"))
    async with app.run_test(size=SIZE) as pilot:
        await app.open_chat(chat.id)
        await pilot.pause()
        tabs_before = len(app.conversation.panes)
        await app.open_chat(None)  # another chat in front
        await pilot.pause()
        screen = await open_history(pilot)
        await highlight(pilot, screen, chat.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen) and app.active_pane.chat is not None
                       and app.active_pane.chat.id == chat.id, what="the chat in front")
        assert len(app.conversation.panes) == tabs_before + 1  # the new empty one; no second tab for the chat


# ---------------------------------------------------------------------------
# rename, archive, delete


async def test_rename_inline_over_the_row(make_app) -> None:
    app = make_app()
    chat = chat_with(app.store, "Old title", ("q", "a"))
    other = chat_with(app.store, "Other", ("q", "a"))
    async with app.run_test(size=SIZE) as pilot:
        await app.open_chat(chat.id)  # open in a tab: its title follows the rename
        await pilot.pause()
        screen = await open_history(pilot)
        await highlight(pilot, screen, chat.id)
        await pilot.press("f2")
        editor = await_editor = screen.query_one(RenameInput)
        await pilot.pause()
        assert await_editor.value == "Old title" and editor.has_focus
        assert editor.region.y == line_with(app, "Old title")  # laid over the row itself
        await pilot.press("ctrl+u", *"Renamed", "space", *"[x]")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.query(RenameInput), what="the editor to close")
        assert app.store.get_chat(chat.id).title == "Renamed [x]"
        assert [row.chat_id for row in screen.rows] == [other.id, chat.id]  # renaming is not activity
        assert app.store.get_chat(other.id).title == "Other"
        await pilot.pause()
        assert "Renamed [x]" in screen_text(app)
        # The toast's text is not parsed as markup ("[x]" would vanish, "[/]" would raise).
        assert [(n.message, n.markup) for n in app._notifications][-1] == ("Renamed to “Renamed [x]”.", False)
        # Escape leaves the title as it was.
        await highlight(pilot, screen, other.id)
        await pilot.press("f2", "ctrl+u", *"nope", "escape")
        await pilot.pause()
        assert not screen.query(RenameInput)
        assert app.store.get_chat(other.id).title == "Other"
        assert isinstance(app.screen, HistoryScreen)  # escape closed the editor, not the screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen), what="the conversation")
        panes = [p for p in app.conversation.panes if p.chat and p.chat.id == chat.id]
        assert panes[0].chat.title == "Renamed [x]"
        assert "Renamed [x]" in screen_text(app)


async def test_archive_show_archived_and_restore(make_app) -> None:
    app = make_app()
    keep = chat_with(app.store, "Keeper", ("q", "a"))
    tidy = chat_with(app.store, "Put away", ("q", "a"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        await highlight(pilot, screen, tidy.id)
        await pilot.press("f5")
        await pilot.pause()
        assert app.store.get_chat(tidy.id).archived
        assert [row.chat_id for row in screen.rows] == [keep.id]
        assert "Put away" not in screen_text(app) and "Show archived" in screen_text(app)
        await pilot.press("f7")
        await wait_for(pilot, lambda: [row.chat_id for row in screen.rows] == [tidy.id], what="the archived list")
        await pilot.pause()
        assert "Archived chats" in screen_text(app) and "Hide archived" in screen_text(app)
        assert "Restore" in screen_text(app)
        # Search finds archived chats too, and says so.
        await search(pilot, screen, "put")
        assert "archived" in lines(app)[line_with(app, "Put away")]
        await search(pilot, screen, "")
        await pilot.press("f5")  # restore
        await pilot.pause()
        assert not app.store.get_chat(tidy.id).archived
        assert screen.rows == []
        await pilot.press("f7")
        await wait_for(pilot, lambda: len(screen.rows) == 2, what="both chats back")


async def test_delete_asks_first_and_closes_the_open_tab(make_app) -> None:
    app = make_app()
    doomed = chat_with(app.store, "Delete me", ("secret", "gone soon"))
    kept = chat_with(app.store, "Keep me", ("q", "a"))
    async with app.run_test(size=SIZE) as pilot:
        await app.open_chat(doomed.id)
        await pilot.pause()
        assert any(p.chat and p.chat.id == doomed.id for p in app.conversation.panes)
        screen = await open_history(pilot)
        await highlight(pilot, screen, doomed.id)
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirmation")
        assert "Delete “Delete me”?" in screen_text(app) and "2 messages" in screen_text(app)
        await pilot.press("enter")  # the focused button is Cancel: enter alone deletes nothing
        await wait_for(pilot, lambda: app.screen is screen, what="back to the history")
        assert app.store.get_chat(doomed.id) is not None
        screen.option_list.focus()  # with the list focused, a letter does it too
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirmation")
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: app.store.get_chat(doomed.id) is None, what="the deletion")
        await pilot.pause()
        assert [row.chat_id for row in screen.rows] == [kept.id]
        assert app.store.messages(doomed.id) == [] and app.store.search("secret") == []
        assert not any(p.chat and p.chat.id == doomed.id for p in app.conversation.panes)
        assert "Delete me" not in screen_text(app)


async def test_a_store_failure_is_a_sentence_not_a_crash(make_app, monkeypatch) -> None:
    from apertis_tui.core.store import StoreError

    app = make_app()
    chat = chat_with(app.store, "Locked", ("q", "a"))

    def locked(*args, **kwargs):
        raise StoreError("The history file x stayed locked by another program for too long.")

    monkeypatch.setattr(app.store, "rename_chat", locked)
    monkeypatch.setattr(app.store, "update_chat", locked)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        await pilot.press("f5")
        await pilot.press("f2", "x", "enter")
        await pilot.pause()
        assert app.is_running and app.store.get_chat(chat.id).title == "Locked"
        assert [n.message for n in app._notifications].count(
            "The history file x stayed locked by another program for too long.") == 2
        assert [row.chat_id for row in screen.rows] == [chat.id]


# ---------------------------------------------------------------------------
# export


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


async def test_export_to_markdown_and_json_asks_before_replacing(make_app, home) -> None:
    app = make_app(key="sk-live-abcdefghijklmnop")
    chat = chat_with(app.store, "Export me", ("my key is sk-live-abcdefghijklmnop", "noted"), model="model-x")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), what="the export dialog")
        assert f"~/apertis-chat-{chat.id}.md" in screen_text(app)
        await pilot.press("enter")
        target = home / f"apertis-chat-{chat.id}.md"
        await wait_for(pilot, target.exists, what="the Markdown file")
        markdown = target.read_text()
        assert "# Export me" in markdown and "model model-x" in markdown and "noted" in markdown
        assert "5 prompt + 7 completion tokens" in markdown
        assert "sk-live-abcdefghijklmnop" not in markdown and "[redacted]" in markdown
        # Again: the file exists, so the app asks; Cancel goes back to the dialog, nothing written.
        target.write_text("mine")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the history")
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), what="the export dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the overwrite question")
        assert "already exists" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), what="the dialog again")
        assert target.read_text() == "mine"
        # JSON: choosing it changes the suffix; the file is new, so no question.
        await pilot.click("#export-json")
        await wait_for(pilot, lambda: app.screen.query_one("#export-path").value.endswith(".json"), what="the .json path")
        await pilot.press("enter")
        json_file = home / f"apertis-chat-{chat.id}.json"
        await wait_for(pilot, json_file.exists, what="the JSON file")
        record = json.loads(json_file.read_text())
        assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
        assert record["messages"][1]["model"] == "model-x"
        assert record["messages"][1]["usage"]["completion_tokens"] == 7
        assert "sk-live-abcdefghijklmnop" not in json_file.read_text()
        # Replacing, when the user says so.
        await wait_for(pilot, lambda: app.screen is screen, what="back to the history")
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), what="the export dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the overwrite question")
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: target.read_text() != "mine", what="the replaced file")
        assert "# Export me" in target.read_text()


async def test_palette_opens_history_searches_and_exports(make_app, home) -> None:
    app = make_app()
    chat = chat_with(app.store, "Palette chat", ("hello palette", "hi"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"hello palette")
        await wait_for(pilot, lambda: "Search history for “hello palette”" in screen_text(app), what="the entry")
        # Pick the search entry (it is last); run it directly through the palette's own list.
        from textual.command import CommandPalette

        palette = app.screen
        assert isinstance(palette, CommandPalette)
        options = palette.query_one("CommandList")
        index = next(i for i in range(options.option_count)
                     if "Search history for" in str(options.get_option_at_index(i).prompt))
        options.highlighted = index
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="the history screen")
        screen = app.screen
        await wait_for(pilot, lambda: screen.searching and screen.rows, what="the hits")
        assert screen.search_input.value == "hello palette"
        assert screen.rows[0].chat_id == chat.id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConversationScreen), what="the chat")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Export this chat")
        await wait_for(pilot, lambda: "Save the chat in front" in screen_text(app), what="the entry")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), what="the export dialog")
        assert app.screen.chat.id == chat.id


async def test_palette_on_the_history_screen_has_its_keys(make_app) -> None:
    app = make_app()
    chat_with(app.store, "From the palette", ("q", "a"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Rename the highlighted")
        await wait_for(pilot, lambda: "Edit its title in place (f2)" in screen_text(app), what="the entry")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen and screen.query(RenameInput), what="the title editor")
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Show archived chats")
        await wait_for(pilot, lambda: "Switch between the chats" in screen_text(app), what="the entry")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.show_archived and "No archived chats" in screen_text(app),
                       what="the archived list")


async def test_screenshot(make_app, tmp_path) -> None:
    """Not an assertion on pixels: a picture for people (also under /tmp/history-screenshot.svg)."""
    app = make_app()
    now = datetime.now(timezone.utc)
    for n, (title, model) in enumerate([("SQLite WAL and checkpoints", "gpt-4o"),
                                        ("Rust lifetimes, again", "claude-sonnet-4-20250514"),
                                        ("Trip to Lisbon", "gemini-2.5-pro")]):
        chat = chat_with(app.store, title, (f"question {n} about wal", f"answer {n}: the WAL file grows"), model=model)
        set_updated(app.store, chat.id, (now - timedelta(hours=5 * n)).isoformat().replace("+00:00", "Z"))
    async with app.run_test(size=(110, 24)) as pilot:
        screen = await open_history(pilot)
        await search(pilot, screen, "wal")
        path = app.save_screenshot(str(tmp_path / "history.svg"))
        assert os.path.getsize(path) > 1000
        target = os.environ.get("HISTORY_SCREENSHOT")
        if target:
            app.save_screenshot(target)


async def test_dialogs_opened_from_the_conversation_bring_their_look(make_app, home) -> None:
    """The export dialog and its yes/no question are styled by dialogs.tcss, which the app
    does not load at start-up: opened from the conversation (the palette's "export"), before
    the history screen ever was, they must load it themselves."""
    app = make_app()
    chat = chat_with(app.store, "Export me", ("hello", "hi"))
    (home / f"apertis-chat-{chat.id}.md").write_text("mine")
    async with app.run_test(size=SIZE) as pilot:
        await app.open_chat(chat.id)
        app.action_export_chat()
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), what="the export dialog")
        await pilot.pause()
        assert app.screen.query_one("#export-dialog").outer_size.width == 76
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the overwrite question")
        await pilot.pause()
        assert app.screen.query_one("#confirm-dialog").outer_size.width == 72
