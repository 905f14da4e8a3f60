"""kill -9 in the middle of a long answer: what had arrived is in the database afterwards.

The app runs as a real subprocess in a pseudo-terminal, exactly as a user starts it.
"""

from __future__ import annotations

import os
import pty
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from apertis_tui.core.store import History
from tests.fake_server import count_tokens, long_markdown
from tests.store_helpers import list_chats

RATE = 200  # tokens per second


def _drain(fd: int) -> None:
    """Read the terminal output so the app never blocks writing to it."""
    while True:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def _assistant_row(db: Path):
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(
                "SELECT content, status FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1"
            ).fetchone()
    except sqlite3.Error:
        return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal")
def test_sigkill_mid_answer_keeps_the_text_that_had_arrived(tmp_path, fake_server):
    fake_server.rate = RATE
    db = tmp_path / "history.db"
    env = {
        **os.environ,
        "APERTIS_API_KEY": fake_server.key,
        "TERM": "xterm-256color",
        "COLUMNS": "100",
        "LINES": "30",
    }
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "apertis_tui", "tokens=20000", "-m", "test/long",
         "--base-url", fake_server.base_url, "--db", str(db), "--config", str(tmp_path / "c.toml")],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )
    os.close(slave)
    threading.Thread(target=_drain, args=(master,), daemon=True).start()
    try:
        # The request reaching the server is when the answer starts (the server paces from there).
        deadline = time.monotonic() + 30
        while not fake_server.chat_requests:
            assert process.poll() is None, "the app exited"
            assert time.monotonic() < deadline, "the app never sent its request"
            time.sleep(0.01)
        started = time.monotonic()
        time.sleep(3.0)  # let ~600 tokens arrive
        killed = time.monotonic()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)

    full = long_markdown(20000)
    content, status = _assistant_row(db)
    assert status == "streaming"  # nobody had the chance to finalise it
    arrived_a_second_before = int(RATE * (killed - 1.0 - started))
    assert count_tokens(content) >= arrived_a_second_before - 2
    assert full.startswith(content)

    with History(db) as store:  # the next start
        assert store.recovered == 1
        chat = list_chats(store)[0]
        user, answer = store.messages(chat.id)
        assert user.content == "tokens=20000"
        assert answer.status == "interrupted" and answer.content == content and answer.model == "test/long"
