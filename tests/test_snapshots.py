"""Snapshot tests: every screen drawn at 110x34 and compared with the SVG in tests/__snapshots__/.

A layout or style change that moves a cell fails here. When the change is meant, look at the
report pytest-textual-snapshot writes (snapshot_report.html), then accept the new pictures:

    .venv/bin/python -m pytest tests/test_snapshots.py --snapshot-update

The app runs for real against the fake server; what would differ from run to run is fixed by
tests/frozen.py (clocks, TZ=UTC, cursors, toasts). The screens that show the server address or
the settings file (settings, key dialog) get fixed ones that are never contacted or written.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from apertis_tui.core.settings.file import Settings
from apertis_tui.core.settings.resolve import resolve_connection
from apertis_tui.core.store import History
from apertis_tui.ui.app import ApertisApp, Startup
from tests.conftest import TEST_KEY, wait_for
from tests.frozen import NOW, answers_drawn, frozen, steady

SIZE = (110, 34)
THEME = "textual-dark"
SHOWN_BASE_URL = "https://api.stima.tech/v1"  # shown, never contacted
SHOWN_CONFIG = Path("~/.config/apertis-tui/config.toml")  # shown, never written (no test saves)


@pytest.fixture
def clock():
    """Frozen clocks: the status line's figures read 0.00 s whatever the machine's speed."""
    with frozen(tick=0.0) as clock:
        yield clock


@pytest.fixture
def build(tmp_path, fake_server, clock):
    """An app on a fresh history, talking to the fake server (or showing ``base_url``)."""
    stores: list[History] = []
    # No balance: its reading lands whenever it likes, so it would be in some pictures and not
    # in others (tests/test_spend.py shows it).
    fake_server.billing.mode = "none"

    def factory(*, key: str | None = TEST_KEY, model: str = "gpt-4o", base_url: str | None = None,
                settings: Settings | None = None) -> ApertisApp:
        store = History(tmp_path / "history.db")
        stores.append(store)
        settings = settings or Settings(theme=THEME)
        env = {"APERTIS_API_KEY": key} if key else {}
        return ApertisApp(Startup(
            settings=settings,
            config_path=SHOWN_CONFIG,
            store=store,
            connection=resolve_connection(settings, env, base_url_flag=base_url or fake_server.base_url),
            model=model,
            env=env,
            session_path=None,
        ))

    yield factory
    fake_server.stall_release.set()
    for store in stores:
        store.close()


async def ready(pilot) -> None:
    """Under snap_compare the pilot starts before the first screen has its chats mounted."""
    await wait_for(pilot, lambda: pilot.app.conversation is not None and pilot.app.conversation.panes
                   and pilot.app.active_pane.is_mounted, what="the conversation screen")
    await pilot.pause()


async def settle(pilot) -> None:
    """The last step before the picture: nothing left that depends on timing."""
    await wait_for(pilot, lambda: answers_drawn(pilot.app), what="the answers drawn to their end")
    await pilot.pause()
    steady(pilot.app)
    await pilot.pause()


async def send(pilot, text: str) -> None:
    pane = pilot.app.active_pane
    pane.prompt.focus()
    pane.prompt.insert(text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not pane.is_streaming, what="the answer")


async def open_screen(pilot, key: str, kind: type) -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), what=kind.__name__)


async def open_picker(pilot, query: str = "") -> None:
    from apertis_tui.ui.screens.model_picker import ModelPicker

    await open_screen(pilot, "ctrl+o", ModelPicker)
    picker = pilot.app.screen
    await wait_for(pilot, lambda: picker.listing is not None and not picker.fetching, what="the model list")
    if query:
        await pilot.press(*query)
        await wait_for(pilot, lambda: picker.filter.value == query, what="the filter")


def seed_history(store: History, clock) -> None:
    """Four chats of different ages; three mention SQLite."""
    chats = [
        (0.1, "SQLite WAL mode and backups", "claude-sonnet-4-20250514",
         "Is it safe to copy an SQLite file while it is open?", "Use the .backup command or VACUUM INTO."),
        (1, "Index for a slow ORDER BY", "deepseek-chat",
         "My query sorts 2 million rows", "In SQLite, an index on (user_id, created_at) skips the sort."),
        (3, "Trip to Lisbon", "gemini-2.5-pro", "Three days in Lisbon, no car", "Day 1: Alfama and the castle."),
        (12, "Full-text search for a small app", "gpt-4.1",
         "Which full-text search for a desktop app?", "SQLite's FTS5 ships with Python."),
    ]
    for days, title, model, question, answer in chats:
        clock.at(NOW - timedelta(days=days))
        chat = store.create_chat(model, title=title)
        store.add_message(chat.id, "user", question)
        reply = store.start_assistant(chat.id, model)
        store.finish_message(reply.id, content=answer, status="complete", prompt_tokens=20, completion_tokens=9)


# ---------------------------------------------------------------------------
# The conversation


def test_conversation_empty(snap_compare, build):
    async def run_before(pilot):
        await ready(pilot)
        await settle(pilot)

    assert snap_compare(build(), terminal_size=SIZE, run_before=run_before)


def test_conversation_with_reasoning_code_and_error(snap_compare, build):
    """A streamed answer (reasoning opened, Markdown, a code block), then a 429 shown in the chat."""
    async def run_before(pilot):
        await ready(pilot)
        await send(pilot, "hello")
        await pilot.press("ctrl+t")
        pilot.app.active_pane.set_model("test/err-429")
        await send(pilot, "once more")
        await settle(pilot)

    assert snap_compare(build(model="test/reasoning"), terminal_size=SIZE, run_before=run_before)


def test_two_chats_one_finished_in_the_background(snap_compare, build, fake_server):
    """Tabs: the first chat's answer ended while the second was in front (◆)."""
    async def run_before(pilot):
        await ready(pilot)
        app = pilot.app
        first = app.active_pane
        fake_server.rate = 40  # long enough to switch tabs before it ends
        first.send("write something")
        await app.conversation.action_new_chat()
        await wait_for(pilot, lambda: not first.is_streaming, what="the background answer")
        fake_server.rate = 0
        await settle(pilot)

    assert snap_compare(build(), terminal_size=SIZE, run_before=run_before)


# ---------------------------------------------------------------------------
# Screens and dialogs


def test_model_picker_filtered(snap_compare, build):
    async def run_before(pilot):
        await ready(pilot)
        await open_picker(pilot, "sonnet4")
        await settle(pilot)

    assert snap_compare(build(), terminal_size=SIZE, run_before=run_before)


def test_history_list(snap_compare, build, clock):
    from apertis_tui.ui.screens.history import HistoryScreen

    app = build()
    seed_history(app.store, clock)

    async def run_before(pilot):
        await ready(pilot)
        await open_screen(pilot, "ctrl+r", HistoryScreen)
        await wait_for(pilot, pilot.app.screen.rows_shown, what="the rows")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_history_search_with_hits(snap_compare, build, clock):
    from apertis_tui.ui.screens.history import HistoryScreen

    app = build()
    seed_history(app.store, clock)

    async def run_before(pilot):
        await ready(pilot)
        await open_screen(pilot, "ctrl+r", HistoryScreen)
        screen = pilot.app.screen
        await pilot.press(*"sqlite")
        await wait_for(pilot, lambda: screen.query_text == "sqlite" and screen.rows, what="the hits")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_settings(snap_compare, build):
    """The key masked, where it comes from; the defaults' fields."""
    from apertis_tui.ui.screens.settings import SettingsScreen

    async def run_before(pilot):
        await ready(pilot)
        await open_screen(pilot, "f2", SettingsScreen)
        await settle(pilot)

    assert snap_compare(build(base_url=SHOWN_BASE_URL), terminal_size=SIZE, run_before=run_before)


def test_chat_settings(snap_compare, build):
    from apertis_tui.ui.screens.chat_settings import ChatSettingsDialog

    async def run_before(pilot):
        await ready(pilot)
        await send(pilot, "hello")
        await open_screen(pilot, "f9", ChatSettingsDialog)
        await settle(pilot)

    assert snap_compare(build(), terminal_size=SIZE, run_before=run_before)


def test_keys_screen(snap_compare, build):
    from apertis_tui.ui.screens.keys import KeysScreen

    async def run_before(pilot):
        await ready(pilot)
        await open_screen(pilot, "f1", KeysScreen)
        await settle(pilot)

    assert snap_compare(build(), terminal_size=SIZE, run_before=run_before)


def test_chat_switcher(snap_compare, build):
    from apertis_tui.ui.screens.chat_switcher import ChatSwitcher

    async def run_before(pilot):
        await ready(pilot)
        await send(pilot, "first chat")
        await pilot.press("ctrl+n")
        await send(pilot, "second chat")
        await open_screen(pilot, "f4", ChatSwitcher)
        await settle(pilot)

    assert snap_compare(build(), terminal_size=SIZE, run_before=run_before)


def test_key_dialog_on_first_run(snap_compare, build):
    from apertis_tui.ui.screens.key_dialog import KeyDialog

    async def run_before(pilot):
        await ready(pilot)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, KeyDialog), what="the key dialog")
        await settle(pilot)

    assert snap_compare(build(key=None, base_url=SHOWN_BASE_URL), terminal_size=SIZE, run_before=run_before)


async def test_settings_picture_holds_no_key(build):
    """The key never reaches a picture: the settings screen shows it masked."""
    from apertis_tui.ui.screens.settings import SettingsScreen

    app = build(key="sk-secret-0123456789", base_url=SHOWN_BASE_URL)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await open_screen(pilot, "f2", SettingsScreen)
        await settle(pilot)
        svg = app.export_screenshot()
    assert "from&#160;APERTIS_API_KEY" in svg  # the picture is of the settings, key field included
    assert "sk-secret" not in svg and "0123456789" not in svg
