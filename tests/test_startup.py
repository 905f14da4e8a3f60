"""Start-up, as a user starts the app in a real terminal: what is typed while it starts is kept.

The first frame shows a light stand-in for the prompt (a TextArea costs ~12 ms to import and
mount), replaced right after that frame; the garbage collector is off until then. Keys typed
meanwhile must land in the prompt, in order, and Enter must send them.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.pty_app import PtyApp

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal")


def user_messages(db: Path) -> list[str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return [row[0] for row in conn.execute("SELECT content FROM messages WHERE role = 'user' ORDER BY id")]
    except sqlite3.Error:  # not created yet
        return []


def start(tmp_path: Path, fake_server) -> PtyApp:
    return PtyApp("--db", str(tmp_path / "history.db"), "--config", str(tmp_path / "settings.toml"),
                  "--base-url", fake_server.base_url, env={"APERTIS_API_KEY": fake_server.key})


def test_keys_typed_before_the_app_is_up_are_kept_in_order(tmp_path, fake_server):
    """Typed ahead: the keys wait in the terminal until the app reads them, whatever it is
    showing by then (the stand-in or the prompt). (Enter is typed once the app is up: typed
    ahead, the terminal, not yet in raw mode, turns it into ctrl+j, a newline.)"""
    db = tmp_path / "history.db"
    with start(tmp_path, fake_server) as app:
        app.write(b"typed ahead")
        app.wait_for_text("ready")
        app.write(b"\r")
        app.wait_until(lambda: user_messages(db) == ["typed ahead"], what="the typed-ahead message stored")
        app.wait_for_text("You said: typed ahead")
        assert app.quit() == 0


def test_keys_typed_at_the_first_frame_are_sent_in_order(tmp_path, fake_server):
    """Typed the moment the screen appears, while the prompt is (or was just) being put in place."""
    db = tmp_path / "history.db"
    with start(tmp_path, fake_server) as app:
        app.wait_for_text("ready")
        for piece in (b"fi", b"rst ", b"wor", b"ds\x7f\x7f", b"ds", b"\r"):  # backspaces too, in order
            app.write(piece)
        app.wait_until(lambda: user_messages(db) == ["first words"], what="the message stored")
        app.wait_for_text("You said: first words")
        app.wait_for_text("done ·")  # the answer is over: the next message may go
        app.write(b"second\r")
        app.wait_until(lambda: user_messages(db) == ["first words", "second"], what="the second message stored")
        assert app.quit() == 0


def test_the_app_quits_when_its_terminal_goes_away(tmp_path):
    """A closed window or a dropped ssh connection: no SIGHUP reaches an app that is not the
    terminal's foreground job, and its reads then return nothing at once, for ever. It must
    notice and quit rather than spin.

    Its own pty, read from this thread: while another thread is blocked reading the master,
    closing it does not hang the terminal up (the read keeps the file open)."""
    import pty
    import select
    import subprocess

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "APERTIS_API_KEY": "k", "APERTIS_BASE_URL": "http://127.0.0.1:9/v1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "apertis_tui", "--db", str(tmp_path / "history.db"), "--config",
         str(tmp_path / "settings.toml")], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        def until(what: bytes) -> None:
            seen, deadline = b"", time.monotonic() + 30
            while what not in seen:
                assert time.monotonic() < deadline, f"no {what!r} from the app: {seen[-500:]!r}"
                if select.select([master], [], [], 0.1)[0]:
                    seen += os.read(master, 65536)

        until(b"ready")
        os.write(master, b"qzx")
        until(b"qzx")  # the real prompt is in, so the app's Ready has run: it watches its terminal
        os.close(master)  # the terminal hangs up
        master = -1
        assert process.wait(timeout=15) == 129
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if master >= 0:
            os.close(master)
