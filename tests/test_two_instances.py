"""Two running apps on one history, both chatting at the same time: no "database is locked", no
lost rows, and neither takes the other's live answer for one cut short by a crash.

The first terminal is the real app in a pseudo-terminal (a separate process, as a user starts
it); the second is the app in this process, driven by Pilot.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from apertis_tui.core import paths
from apertis_tui.core.logs import setup_logging
from tests.conftest import wait_for
from tests.fake_server import long_markdown
from tests.pty_app import PtyApp
from tests.store_helpers import list_chats

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal")

SIZE = (110, 34)
RATE = 1000  # tokens per second, for every stream
FIRST, SECOND, THIRD = 2000, 8000, 1500  # tokens: terminal 1, terminal 2, terminal 1 again


def rows(db: Path) -> list[tuple]:
    """(id, chat_id, role, status, content) of every message, read as a third program would."""
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("SELECT id, chat_id, role, status, content FROM messages ORDER BY id").fetchall()
    finally:
        conn.close()


def statuses(db: Path) -> list[str]:
    return [row[3] for row in rows(db)]


def wait_until(condition, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def notices(app) -> str:
    return " ".join(" ".join(str(toast.render()).split()) for toast in app.screen.query("Toast"))


@pytest.fixture
def log_file():
    path = setup_logging(paths.state_dir())  # the same log file the other process writes
    yield path
    logging.getLogger("apertis_tui").handlers.clear()


async def test_two_apps_on_one_history_chat_at_the_same_time(tmp_path, fake_server, make_app, log_file):
    fake_server.rate = RATE
    db = tmp_path / "history.db"
    args = ("-m", "test/long", "--base-url", fake_server.base_url, "--db", str(db),
            "--config", str(tmp_path / "config.toml"))
    env = {"APERTIS_API_KEY": fake_server.key}
    terminal_1 = PtyApp(f"tokens={FIRST}", *args, env=env)
    try:
        # Terminal 1 is streaming its answer.
        wait_until(lambda: len(fake_server.chat_requests) == 1, what="terminal 1's request")
        wait_until(lambda: statuses(db) == ["complete", "streaming"], what="terminal 1's answer in the history")

        # Terminal 2 opens the same history now: terminal 1's answer is live, not a crash's leftover.
        app = make_app(db=db, model="test/long", session=tmp_path / "session-2.json")
        assert app.store.recovered == 0
        assert statuses(db) == ["complete", "streaming"]
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            pane = app.active_pane
            pane.prompt.insert(f"tokens={SECOND}")
            await pilot.press("enter")
            await wait_for(pilot, lambda: statuses(db).count("streaming") == 2, what="both answers streaming at once")

            # Terminal 1 finishes, quits and starts again while terminal 2 is still streaming.
            await wait_for(pilot, lambda: statuses(db)[:2] == ["complete", "complete"], timeout=30,
                           what="terminal 1's answer to finish")
            assert terminal_1.quit() == 0
            first_output = terminal_1.text
            terminal_1.close()
            assert pane.is_streaming, "terminal 2 finished too early for the test to mean anything"
            terminal_1 = PtyApp(*args, env=env)  # no prompt: it reopens the chat it had
            await wait_for(pilot, lambda: f"tokens={FIRST}" in terminal_1.text, timeout=30,
                           what="terminal 1 up again, on its chat")
            assert pane.is_streaming
            assert statuses(db)[2:] == ["complete", "streaming"]  # terminal 2's answer was left alone

            # Terminal 1 asks again while terminal 2 streams: two writers at once, again.
            terminal_1.write(f"tokens={THIRD}".encode())
            await wait_for(pilot, lambda: f"tokens={THIRD}" in terminal_1.text, what="the typed prompt")
            terminal_1.write(b"\r")
            await wait_for(pilot, lambda: len(statuses(db)) == 6, what="terminal 1's second question")
            await wait_for(pilot, lambda: "streaming" not in statuses(db), timeout=30, what="every answer to end")
            await pilot.pause()
            assert "cut short" not in notices(app)
        assert terminal_1.quit() == 0
        second_output = terminal_1.text
    finally:
        terminal_1.close()

    # Every row is there, complete, with every word.
    (q1, a1, q2, a2, q3, a3) = rows(db)
    assert (q1[2], q1[4]) == ("user", f"tokens={FIRST}") and (q3[2], q3[4]) == ("user", f"tokens={THIRD}")
    assert (q2[2], q2[4]) == ("user", f"tokens={SECOND}")
    assert a1[4] == long_markdown(FIRST) and a2[4] == long_markdown(SECOND) and a3[4] == long_markdown(THIRD)
    assert q1[1] == a1[1] == q3[1] == a3[1] != q2[1] == a2[1]  # terminal 1's chat, and terminal 2's
    assert {row[3] for row in rows(db)} == {"complete"}
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
    finally:
        conn.close()

    # Nothing went wrong anywhere a user or a bug report would see it.
    log = "".join(p.read_text() for p in log_file.parent.glob("apertis-tui.log*"))
    # Terminal 1 started twice; three answers finished, two in terminal 1, one here.
    assert log.count("starting") == 2 and log.count(": finished (stop)") == 3
    for text in (first_output, second_output, log):
        assert "locked" not in text and "Traceback" not in text and "cut short" not in text
    assert " ERROR " not in log and " WARNING " not in log


async def test_a_prompt_from_the_command_line_starts_a_new_chat_even_when_chats_are_restored(make_app, tmp_path):
    """README: "A PROMPT starts a new chat". With a restored session it went into the chat in front,
    which may be the very chat another terminal is streaming into."""
    session = tmp_path / "session.json"
    first = make_app(session=session)
    async with first.run_test(size=SIZE) as pilot:
        first.active_pane.prompt.insert("an older chat")
        await pilot.press("enter")
        await first.workers.wait_for_complete()
    old_chat = json.loads(session.read_text())["chats"]
    assert len(old_chat) == 1
    app = make_app(session=session, prompt="a new question", model="claude-sonnet-4-20250514")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(list_chats(app.store)) == 2 or len(app.store.messages(old_chat[0])) > 2,
                       what="the prompt to be sent")
        await app.workers.wait_for_complete()
        assert [m.content for m in app.store.messages(old_chat[0])][0] == "an older chat"
        assert len(app.store.messages(old_chat[0])) == 2
        assert app.active_pane.chat.model == "claude-sonnet-4-20250514"
        assert len(app.conversation.panes) == 2  # the restored chat is still open beside it
