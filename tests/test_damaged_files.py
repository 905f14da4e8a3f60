"""Damaged and unwritable files: a clear sentence, an exit code or a running app, never a
traceback, and never a file lost.

Root ignores permission bits, so "not writable" is made the way it also happens to users: a
regular file where a folder should be, or a path under /proc.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from apertis_tui import cli
from apertis_tui.core.settings.file import Settings
from apertis_tui.core.settings.resolve import resolve_connection
from apertis_tui.core.session import Session, load_session, save_session
from apertis_tui.core.store import History
from apertis_tui.ui.app import ApertisApp
from tests.conftest import wait_for
from tests.pty_app import PtyApp

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal and /proc")

JUNK = b"this is not a database, it was damaged by a disk error " * 200
QUESTION = "[y/N]"
SIZE = (110, 34)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "apertis_tui", *args], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and not re.search(r"\w(Error|Exception): ", text), text[-2000:]


# ---------------------------------------------------------------------------
# A damaged history: moved aside only when the user says so


def test_yes_on_a_terminal_moves_the_damaged_history_aside_and_starts_a_new_one(tmp_path, fake_server):
    db = tmp_path / "history.db"
    db.write_bytes(JUNK)
    with PtyApp("--db", str(db), "--base-url", fake_server.base_url, env={"APERTIS_API_KEY": fake_server.key}) as app:
        app.wait_for_text(QUESTION)
        assert "history.db is damaged" in app.text
        assert db.read_bytes() == JUNK  # nothing happens before the answer
        app.write(b"y\r")
        app.wait_for_text("The damaged file is now")
        app.wait_for_text("New chat")  # the app is up, on the fresh history
        assert app.quit() == 0
    moved = [p for p in db.parent.iterdir() if p.name.startswith("history.db.corrupt-")]
    assert len(moved) == 1 and moved[0].read_bytes() == JUNK  # renamed, not deleted
    with sqlite3.connect(db) as conn:  # a new, valid history in its place
        assert conn.execute("SELECT count(*) FROM chats").fetchone() == (0,)
    no_traceback(app.text)


@pytest.mark.parametrize("answer", [b"n\r", b"\r", b"\x04"], ids=["n", "enter", "ctrl+d"])
def test_anything_but_yes_leaves_the_damaged_history_alone(tmp_path, answer):
    (tmp_path / "data").mkdir()
    db = tmp_path / "data" / "history.db"
    db.write_bytes(JUNK)
    with PtyApp("--db", str(db), env={"APERTIS_API_KEY": "k"}) as app:
        app.wait_for_text(QUESTION)
        app.write(answer)
        assert app.wait() == 1
        app.wait_for_text("the file was left as it is")
    assert db.read_bytes() == JUNK
    assert sorted(p.name for p in db.parent.iterdir()) == ["history.db"]
    no_traceback(app.text)


def test_ctrl_c_at_the_question_is_a_no_not_a_traceback(tmp_path):
    db = tmp_path / "history.db"
    db.write_bytes(JUNK)
    with PtyApp("--db", str(db), env={"APERTIS_API_KEY": "k"}) as app:
        app.wait_for_text(QUESTION)
        app.process.send_signal(signal.SIGINT)  # what ctrl+c in the terminal sends
        assert app.wait() == 1
        app.wait_for_text("the file was left as it is")
    assert db.read_bytes() == JUNK
    no_traceback(app.text)


def test_a_damaged_file_that_cannot_be_moved_is_a_sentence(tmp_path):
    # /proc/version is not a database, and nothing under /proc can be renamed, even by root.
    with PtyApp("--db", "/proc/version", env={"APERTIS_API_KEY": "k"}) as app:
        app.wait_for_text(QUESTION)
        app.write(b"y\r")
        assert app.wait() == 1
        app.wait_for_text("Could not move the damaged history file /proc/version aside")
    no_traceback(app.text)


# ---------------------------------------------------------------------------
# Folders that cannot be written


def test_a_data_folder_that_cannot_be_created_is_a_sentence_and_an_exit_code(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    result = run_cli(env={"XDG_DATA_HOME": str(blocker), "APERTIS_API_KEY": "k"})
    assert result.returncode == 1
    assert "Cannot create the folder for the history file" in result.stderr
    assert "Not a directory" in result.stderr
    no_traceback(result.stderr)
    assert blocker.read_text() == "a file where the data folder should be"


def test_a_history_where_no_file_can_be_written_is_a_sentence_and_an_exit_code(tmp_path):
    result = run_cli("--db", "/proc/apertis-history.db", env={"APERTIS_API_KEY": "k"})
    assert result.returncode == 1
    assert "/proc/apertis-history.db cannot be opened for writing" in result.stderr
    assert "Check that its folder exists and is writable." in result.stderr
    no_traceback(result.stderr)


def test_save_session_into_an_unwritable_folder_returns_false(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("x")
    assert save_session(blocker / "session.json", Session([1, 2], 1)) is False
    assert save_session(Path("/proc/apertis-session.json"), Session([1], 0)) is False
    assert load_session(blocker / "session.json") == Session()
    good = tmp_path / "ok" / "session.json"
    assert save_session(good, Session([3, 4], 1)) is True and load_session(good) == Session([3, 4], 1)


async def test_state_and_config_folders_that_are_files_do_not_stop_a_chat(make_app, tmp_path, monkeypatch):
    """The session file and the settings live there: chatting goes on, saving the key says why not."""
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    app = make_app(key=None, session=blocker / "state" / "session.json")
    app.startup.config_path = blocker / "config" / "config.toml"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KeyDialog", what="the key dialog")
        await pilot.press(*"test-key", "enter")
        await wait_for(pilot, lambda: "was not saved" in notices(app), what="the notice")
        assert "Not a directory" in notices(app)
        pane = app.active_pane
        pane.prompt.insert("hello")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: not pane.is_streaming, what="the answer")
        assert [m.status for m in app.store.messages(pane.chat.id)] == ["complete", "complete"]
        await pilot.press("ctrl+n")  # another session save
        await pilot.pause()
        assert app.is_running and len(app.conversation.panes) == 2
    assert blocker.read_text() == "x"


# ---------------------------------------------------------------------------
# Settings files that do not load: the app starts with defaults and says where the problem is


def notices(app) -> str:
    return " ".join(" ".join(str(toast.render()).split()) for toast in app.screen.query("Toast"))


@pytest.fixture
def started(monkeypatch):
    """Run ``cli.main`` up to the point where the app would start; keep what it was given."""
    seen = {}
    monkeypatch.setattr(ApertisApp, "run", lambda self, *a, **k: seen.setdefault("startup", self.startup))
    yield seen
    logging.getLogger("apertis_tui").handlers.clear()  # cli.main set up the log file


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('default_model = "gpt-4o"\n\n[params]\ntemperature = "warm"\n',
         ["params.temperature must be a number from 0 to 2", "(line 4)"]),
        ('stream = "yes"\n', ["stream must be true or false", "(line 1)"]),
        ('[timeouts]\nconnect = 5\nread = -1\n', ["timeouts.read must be a number of seconds", "(line 3)"]),
        ('theme = "a"\n[params\ntop_p = 1\n', ["is not valid TOML", "line 2, column"]),
    ],
    ids=["wrong-type", "not-a-bool", "negative", "not-toml"],
)
async def test_a_settings_file_that_does_not_load_is_shown_in_the_app_with_line_and_key(
        tmp_path, started, fake_server, text, words):
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert cli.main(["--config", str(path), "--db", str(tmp_path / "h.db"), "--base-url", fake_server.base_url]) == 0
    startup = started["startup"]
    assert startup.settings == Settings()  # defaults
    startup.env = {"APERTIS_API_KEY": fake_server.key}
    startup.connection = resolve_connection(startup.settings, startup.env, base_url_flag=fake_server.base_url)
    startup.store = History(tmp_path / "h.db")  # cli.main closed its own when "run" returned
    app = ApertisApp(startup)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_for(pilot, lambda: "Settings not loaded" in notices(app), what="the notice")
            for word in words:
                assert word in notices(app), (word, notices(app))
            assert str(path) in notices(app).replace(" ", "")  # the toast wraps the path
            # The app works with the defaults.
            app.active_pane.prompt.insert("hi")
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await wait_for(pilot, lambda: not app.active_pane.is_streaming, what="the answer")
            assert app.store.messages(app.active_pane.chat.id)[-1].status == "complete"
    finally:
        startup.store.close()
    assert path.read_text() == text  # never rewritten without asking


def test_a_settings_path_that_is_a_folder_starts_with_defaults(tmp_path, started):
    folder = tmp_path / "config.toml"
    folder.mkdir()
    assert cli.main(["--config", str(folder), "--db", str(tmp_path / "h.db")]) == 0
    startup = started["startup"]
    assert startup.settings == Settings()
    assert "could not be read" in str(startup.config_error) and str(folder) in str(startup.config_error)
