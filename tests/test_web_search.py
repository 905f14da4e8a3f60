"""Apertis's web search in the app (f5, per chat), against the fake server's ":web" models: what
is sent, the search shown as a status and never as the answer, the sources under the reply
(stored, searched, exported, shown again after a restart, opened only on purpose), hostile
sources, free models refused, and the server's own timings beside ours."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Static

from apertis_tui.core.settings.file import Settings
from apertis_tui.core.store.export import export_chat
from apertis_tui.ui.widgets.message_view import MessageView
from tests.conftest import pane, reply_done, screen_text, send, wait_for
from tests.fake_server import LATENCY_CHECKPOINT, WEB_SOURCES

SIZE = (140, 45)


def title_bar(app) -> str:
    return str(pane(app).query_one("#chat-title", Static).render())


def status(app) -> str:
    return str(pane(app).status.render())


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


def last_reply(app):
    return app.store.messages(pane(app).chat.id)[-1]


def linked(view: MessageView) -> dict[str, str]:
    """Text -> link of every hyperlinked run the reply's widget draws (what the terminal gets as OSC 8)."""
    links: dict[str, str] = {}
    for strip in view.lines_at(view.size.width or 120):
        for segment in strip:
            if segment.style is not None and segment.style.link:
                links[segment.text] = segment.style.link
    return links


async def web_on(pilot) -> None:
    await pilot.press("f5")
    await wait_for(pilot, lambda: pane(pilot.app).web_on, what="web search on")


# ---------------------------------------------------------------------------
# What is sent


async def test_web_search_on_sends_the_web_model_and_settings_off_sends_neither(make_app, fake_server):
    app = make_app(settings=Settings(web_results_count=3, web_content_length="full"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await web_on(pilot)
        assert "web search" in title_bar(app)  # the title bar says it is on
        assert any("Web search on for this chat" in note and "3 results, full" in note for note in notices(app))
        await send(pilot, "what is new in sqlite?")
        await reply_done(pilot)
        [request] = fake_server.chat_requests
        body = request["json"]
        assert request["web"] and body["model"] == "gpt-4o:web"
        assert body["web_results_count"] == 3 and body["web_content_length"] == "full"
        stored = last_reply(app)
        assert stored.model == "gpt-4o"  # the model as chosen; ":web" is how it was asked
        assert stored.web_search is not None and stored.web_search.status == "success"
        assert [s.url for s in stored.sources] == [s["url"] for s in WEB_SOURCES[:3]]
        assert app.store.get_chat(pane(app).chat.id).web  # the switch is stored with the chat

        fake_server.reset()
        await pilot.press("f5")
        await wait_for(pilot, lambda: not pane(app).web_on, what="web search off")
        assert "web search" not in title_bar(app)
        await send(pilot, "and without searching?")
        await reply_done(pilot)
        [request] = fake_server.chat_requests
        body = request["json"]
        assert not request["web"] and body["model"] == "gpt-4o"
        assert "web_results_count" not in body and "web_content_length" not in body
        assert last_reply(app).web_search is None and last_reply(app).sources == ()
        assert not app.store.get_chat(pane(app).chat.id).web


async def test_the_switch_is_in_the_palette_and_in_f1(make_app):
    from apertis_tui.ui.commands import ChatCommands
    from apertis_tui.ui.screens.keys import key_rows

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        rows = dict(row for _, group in key_rows(app.screen) for row in group)
        assert rows["f5"] == "Web search on or off for this chat (Apertis)"
        assert rows["1 … 9"].startswith("Open that source of a reply")
        provider = ChatCommands(app.screen)
        names = {name: callback for name, _, callback in provider._commands()}
        names["Web search on/off"]()
        await wait_for(pilot, lambda: pane(app).web_on, what="on from the palette")
        # A chat not yet stored keeps the switch until its first message, then stores it.
        await send(pilot, "first")
        await reply_done(pilot)
        assert app.store.get_chat(pane(app).chat.id).web


async def test_a_free_model_is_refused_with_a_sentence_and_nothing_is_sent(make_app, fake_server):
    app = make_app(model="gpt-4o-mini:free")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f5")  # the switch itself says why it stays off
        await wait_for(pilot, lambda: any("free models (:free) cannot search the web" in n for n in notices(app)),
                       what="the sentence")
        assert not pane(app).web_on and "web search" not in title_bar(app)

        pane(app).set_model("gpt-4o")
        await web_on(pilot)
        pane(app).set_model("gpt-4o-mini:free")  # web search on, then a free model chosen
        app.clear_notifications()
        await send(pilot, "search this")
        await wait_for(pilot, lambda: notices(app), what="the refusal")
        assert "gpt-4o-mini:free is a free model, and free models (:free) cannot search the web" in notices(app)[0]
        assert fake_server.chat_requests == []  # nothing sent
        assert pane(app).chat is None  # nothing stored
        assert pane(app).prompt.text == "search this"  # nothing lost


# ---------------------------------------------------------------------------
# The indicator: a status while it lasts, never the answer


async def test_the_indicator_is_the_status_then_gone_and_never_stored_or_sent_back(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await web_on(pilot)
        await send(pilot, "a slow search please")
        await wait_for(pilot, lambda: status(app).startswith("searching the web"), what="the search status")
        view = pane(app).messages.views[-1]
        await wait_for(pilot, lambda: "searching the web…" in screen_text(app), what="the reply's label")
        assert view.text == "" and "Web searching" not in screen_text(app)  # not the answer
        fake_server.stall_release.set()
        await reply_done(pilot)
        assert "searching the web" not in screen_text(app)
        assert status(app).startswith("done")
        assert "Web searching" not in view.text and "🔍" not in screen_text(app)
        stored = last_reply(app)
        assert stored.content.startswith("**gpt-4o** got 1 messages") and "Web searching" not in stored.content

        await send(pilot, "and again")
        await reply_done(pilot)
        sent = fake_server.chat_requests[-1]["json"]["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        assert not any("Web searching" in (m["content"] or "") for m in sent)


async def test_a_reply_not_streamed_keeps_its_sources_too(make_app, fake_server):
    app = make_app(settings=Settings(stream=False))
    async with app.run_test(size=SIZE) as pilot:
        await web_on(pilot)
        await send(pilot, "whole, please")
        await reply_done(pilot)
        assert not fake_server.chat_requests[0]["json"]["stream"]
        stored = last_reply(app)
        assert stored.status == "complete" and stored.error is None  # the empty error object is no error
        assert len(stored.sources) == 5 and stored.web_search.count == 5
        assert "[1] Write-Ahead Logging" in screen_text(app)


# ---------------------------------------------------------------------------
# Sources


async def test_sources_are_numbered_with_host_and_link_stored_searched_exported_and_back_after_restart(
        make_app, fake_server, tmp_path):
    db, session = tmp_path / "history.db", tmp_path / "session.json"
    app = make_app(db=db, session=session)
    async with app.run_test(size=SIZE) as pilot:
        await web_on(pilot)
        await send(pilot, "tell me about sqlite")
        await reply_done(pilot)
        text = screen_text(app)
        assert "Searched the web: 5 sources." in text
        assert "[1] Write-Ahead Logging  sqlite.org" in text
        assert "[2] sqlite3 — DB-API 2.0 interface for SQLite databases  docs.python.org" in text
        assert "[5] The SQLite Query Optimizer Overview  sqlite.org" in text and "[6]" not in text
        view = pane(app).messages.views[-1]
        links = linked(view)
        assert links["Write-Ahead Logging"] == "https://www.sqlite.org/wal.html"
        assert links["SQLite FTS5 Extension"] == "https://www.sqlite.org/fts5.html"
        chat_id = pane(app).chat.id
        reply = last_reply(app)
        assert [s.title for s in reply.sources] == [s["title"] for s in WEB_SOURCES[:5]]
        assert reply.sources[0].snippet == WEB_SOURCES[0]["snippet"]

        # The history search finds the reply by a source's title (it is not in the answer).
        [hit] = app.store.search("optimizer overview")
        assert hit.message_id == reply.id and hit.snippet.startswith("source: ")
        from apertis_tui.ui.screens.history import HistoryScreen

        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="the history")
        screen = app.screen
        screen.search_input.value = "optimizer"
        await wait_for(pilot, lambda: screen.query_text == "optimizer" and screen.rows, what="the hit")
        assert screen.rows[0].message_id == reply.id
        assert "source: " in screen_text(app) and "Optimizer" in screen_text(app)
        await pilot.press("escape", "escape")

        markdown = export_chat(app.store, chat_id, "md")
        assert "*Searched the web: 5 sources.*" in markdown
        assert "1. [Write-Ahead Logging](<https://www.sqlite.org/wal.html>) — sqlite.org" in markdown
        record = json.loads(export_chat(app.store, chat_id, "json"))
        assert record["chat"]["web"] is True
        exported = record["messages"][-1]
        assert exported["sources"][0] == WEB_SOURCES[0]
        assert exported["web_search"] == {"used": True, "count": 5, "status": "success"}
        app.remember_session()

    again = make_app(db=db, session=session)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "[1] Write-Ahead Logging  sqlite.org" in screen_text(again),
                       what="the sources after a restart")
        assert pane(again).web_on and "web search" in title_bar(again)
        assert linked(pane(again).messages.views[-1])["Write-Ahead Logging"] == "https://www.sqlite.org/wal.html"


async def test_a_search_without_results_says_so(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await web_on(pilot)
        await send(pilot, "no results for this one")
        await reply_done(pilot)
        assert "Searched the web: no results." in screen_text(app)
        reply = last_reply(app)
        assert reply.sources == () and reply.web_search.status == "no_results" and reply.web_search.count == 0
        assert "*Searched the web: no results.*" in export_chat(app.store, pane(app).chat.id, "md")


async def test_hostile_source_titles_and_addresses(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await web_on(pilot)
        await send(pilot, "hostile sources please")
        await reply_done(pilot)
        assert app.is_running
        text = screen_text(app)
        # Markup is shown as typed, never obeyed; escape sequences are gone.
        assert "[1] [bold]x[/bold] [/] [@click=app.quit]click[/] ]0;pwned[2J  no address" in text
        assert "[2] A javascript link  no address" in text and "[3] Spaces in the address  no address" in text
        assert "[4] evil.exe [link](https://x.example) `code` *star*  fine.example" in text
        view = pane(app).messages.views[-1]
        # Only the one plain https address became a link; what the terminal gets holds no escape of theirs.
        assert set(linked(view).values()) == {"https://fine.example/ok?a=1&b=[2]"}
        sent = "".join(strip.render(app.console) for strip in view.lines_at(120))
        assert "\x1b]0;" not in sent and "\x1b[2J" not in sent and "javascript:" not in sent
        assert sent.count("\x1b]8;id=") == 1  # one OSC 8 hyperlink: the fine one
        reply = last_reply(app)
        assert [s.url for s in reply.sources] == ["", "", "", "https://fine.example/ok?a=1&b=[2]"]
        assert all("\x1b" not in s.title + s.snippet and "\u202e" not in s.title for s in reply.sources)
        markdown = export_chat(app.store, pane(app).chat.id, "md")
        assert "\\[bold\\]x\\[/bold\\]" in markdown  # escaped: the title makes no Markdown of its own
        assert "4. [evil.exe \\[link\\]\\(https://x.example\\) \\`code\\` \\*star\\*](<https://fine.example/ok?a=1&b=[2]>)" \
            in markdown


async def test_sources_open_only_on_purpose(make_app, fake_server, monkeypatch):
    import webbrowser

    opened: list[str] = []

    class Browser(webbrowser.BackgroundBrowser):  # stands for the user's browser: records, starts nothing
        def open(self, url, new=0, autoraise=True):
            opened.append(url)
            return True

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Browser("true"))
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await web_on(pilot)
        await send(pilot, "sources to open")
        await reply_done(pilot)
        view = pane(app).messages.views[-1]
        # A click on the reply, its sources included, opens nothing.
        for y in range(view.size.height):
            await pilot.click(view, offset=(8, y))
        assert opened == []
        pane(app).focus_prompt()
        await pilot.press("1")  # typed into the prompt: a digit, not a command
        assert opened == [] and pane(app).prompt.text == "1"
        pane(app).prompt.clear()
        await pilot.press("ctrl+up")
        await wait_for(pilot, lambda: pane(app).messages.selected is view, what="the reply selected")
        await pilot.press("3")
        await wait_for(pilot, lambda: opened, what="the source opened")
        assert opened == ["https://www.sqlite.org/fts5.html"]
        await pilot.press("9")  # there is no ninth
        await wait_for(pilot, lambda: any("This reply has 5 sources." in n for n in notices(app)), what="the note")
        assert len(opened) == 1
        # The palette lists the selected reply's sources.
        from apertis_tui.ui.commands import ChatCommands

        commands = {name: callback for name, _, callback in ChatCommands(app.screen)._commands()}
        commands["Open source 2: sqlite3 — DB-API 2.0 interface for SQLite databases"]()
        assert opened[-1] == "https://docs.python.org/3/library/sqlite3.html"


# ---------------------------------------------------------------------------
# The server's own timings


async def test_server_timings_are_shown_beside_ours_stored_and_exported(make_app, fake_server):
    app = make_app(model="test/timings")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "how fast?")
        await reply_done(pilot)
        server = LATENCY_CHECKPOINT["service_ttft_ms"] / 1000
        assert f"(server {server:.2f} s)" in status(app) and status(app).startswith("done")
        reply = last_reply(app)
        assert reply.server_timings.as_dict() == LATENCY_CHECKPOINT
        # The reply's details: selecting it puts its figures in the status line, ours beside the server's.
        await pilot.press("ctrl+up")
        await wait_for(pilot, lambda: status(app).startswith("reply"), what="the reply's details")
        assert f"first token {reply.ttft_ms / 1000:.2f} s (server {server:.2f} s)" in status(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: status(app).startswith("ready"), what="the status back")
        markdown = export_chat(app.store, pane(app).chat.id, "md")
        assert f"first token {reply.ttft_ms} ms · server first token 236 ms · engine first token 182 ms" in markdown
        assert "server total 1024 ms" in markdown
        record = json.loads(export_chat(app.store, pane(app).chat.id, "json"))
        assert record["messages"][-1]["server_timings"] == LATENCY_CHECKPOINT
        assert record["messages"][-1]["web_search"] is None  # timings alone are no web search


@pytest.mark.parametrize("setting", ["web_results_count = 11", "web_results_count = true",
                                     'web_content_length = "huge"'])
def test_bad_web_settings_are_a_sentence(tmp_path, setting):
    from apertis_tui.core.settings.file import ConfigError, load_settings

    path = tmp_path / "config.toml"
    path.write_text(setting + "\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "(line 1)" in str(caught.value)
    assert "from 1 to 10" in str(caught.value) or "one of short, medium, full" in str(caught.value)


# ---------------------------------------------------------------------------
# The settings: the chat's switch (f9) and how a search reads (f2)


async def test_the_switch_in_chat_settings_and_a_free_model_refused_there(make_app, fake_server):
    from textual.widgets import Switch

    from apertis_tui.ui.screens.chat_settings import ChatSettingsDialog

    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatSettingsDialog), what="the chat settings")
        switch = app.screen.query_one("#chat-web", Switch)
        assert not switch.value and "Web search" in screen_text(app)
        switch.focus()
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ChatSettingsDialog), what="the dialog to close")
        assert pane(app).web_on and "web search" in title_bar(app)

        pane(app).set_model("gpt-4o-mini:free")
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatSettingsDialog), what="the chat settings")
        switch = app.screen.query_one("#chat-web", Switch)
        assert switch.value
        switch.focus()
        await pilot.press("space", "space")  # off and on again: the sentence shows beside it
        await wait_for(pilot, lambda: "cannot search the web" in str(app.screen.query_one("#note-web").render()),
                       what="the sentence beside the switch")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any(n.startswith("Not saved: gpt-4o-mini:free is a free model")
                                          for n in notices(app)), what="the refusal")
        assert isinstance(app.screen, ChatSettingsDialog)  # nothing applied; the dialog stays
        await pilot.press("space", "ctrl+s")  # switched off: saved
        await wait_for(pilot, lambda: not isinstance(app.screen, ChatSettingsDialog), what="the dialog to close")
        assert not pane(app).web_on


async def test_web_settings_in_f2_checked_saved_and_used(make_app, fake_server, tmp_path):
    import tomllib

    from apertis_tui.ui.screens.settings import SettingsScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the settings")
        screen = app.screen
        count = screen.query_one("#web_results_count")
        count.focus()
        count.value = ""
        await pilot.press("1", "1")
        await wait_for(pilot, lambda: "from 1 to 10" in str(screen.query_one("#note-web_results_count").render()),
                       what="the problem beside the field")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # refused while invalid
        count.value = "7"
        length = screen.query_one("#web_content_length")
        length.focus()
        length.value = ""
        await pilot.press(*"full")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen), what="the screen to close")
        await app.workers.wait_for_complete()
        saved = tomllib.loads((tmp_path / "config" / "config.toml").read_text("utf-8"))
        assert saved["web_results_count"] == 7 and saved["web_content_length"] == "full"
        assert app.settings.web_results_count == 7
        await web_on(pilot)
        await send(pilot, "with the new settings")
        await reply_done(pilot)
        body = fake_server.chat_requests[-1]["json"]
        assert body["web_results_count"] == 7 and body["web_content_length"] == "full"
        assert len(last_reply(app).sources) == 6  # the fake server has six to give


def test_a_fork_keeps_the_switch_the_sources_and_the_timings(tmp_path):
    from apertis_tui.core.store import History
    from apertis_tui.core.web import ServerTimings, WebSearch, WebSource

    store = History(tmp_path / "history.db")
    try:
        chat = store.create_chat("gpt-4o", title="t", web=True)
        store.add_message(chat.id, "user", "q")
        reply = store.start_assistant(chat.id, "gpt-4o")
        store.finish_message(reply.id, content="a [1]", status="complete",
                             sources=[WebSource("Zanzibar tides", "https://tides.example/z")],
                             web_search=WebSearch(True, 1, "success"), server_timings=ServerTimings(service_ttft_ms=9))
        fork = store.fork_chat(chat.id, reply.id, "fork")
        copied = store.messages(fork.id)[-1]
        assert fork.web and copied.sources == (WebSource("Zanzibar tides", "https://tides.example/z"),)
        assert copied.web_search == WebSearch(True, 1, "success") and copied.server_timings.service_ttft_ms == 9
        assert {hit.chat_id for hit in store.search("zanzibar")} == {chat.id, fork.id}
        store.delete_chat(fork.id)  # its sources leave the index with it
        assert {hit.chat_id for hit in store.search("zanzibar")} == {chat.id}
    finally:
        store.close()


async def test_without_a_browser_the_address_goes_to_the_clipboard(make_app, fake_server, monkeypatch):
    import webbrowser

    def none(using=None):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", none)
    app = make_app()
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await web_on(pilot)
        await send(pilot, "sources to copy")
        await reply_done(pilot)
        await pilot.press("ctrl+up", "1")
        await wait_for(pilot, lambda: copied, what="the address copied")
        assert copied == ["https://www.sqlite.org/wal.html"]
        assert any("No browser could be started here" in n for n in notices(app))


async def test_compared_models_all_search_and_a_free_one_among_them_is_refused(make_app, fake_server):
    app = make_app()
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await web_on(pilot)
        pane(app).set_comparing(["gpt-4o", "gpt-4o-mini:free"])
        await send(pilot, "compare these")
        await wait_for(pilot, lambda: any("gpt-4o-mini:free is a free model" in n for n in notices(app)),
                       what="the refusal")
        assert fake_server.chat_requests == [] and pane(app).prompt.text == "compare these"
        pane(app).prompt.clear()
        pane(app).set_comparing(["gpt-4o", "gpt-4.1"])
        await send(pilot, "compare these")
        await reply_done(pilot)
        assert sorted(r["json"]["model"] for r in fake_server.chat_requests) == ["gpt-4.1:web", "gpt-4o:web"]
        answers = [m for m in app.store.messages(pane(app).chat.id) if m.role == "assistant"]
        assert sorted(m.model for m in answers) == ["gpt-4.1", "gpt-4o"]
        assert all(len(m.sources) == 5 for m in answers)
        assert screen_text(app).count("[1] Write-Ahead Logging") == 2  # under each column's answer
