"""The real ``apertis-tui`` as a subprocess in a pseudo-terminal, as a user starts it.

Used by the tests that need a second process (two instances on one history) or a real terminal
(the y/N question before a damaged history is moved aside). Not a test module itself.
"""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping

_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class PtyApp:
    """``python -m apertis_tui ARGS`` with its terminal on a pty; everything it writes is kept."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None, columns: int = 100, lines: int = 30) -> None:
        environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
        environment.update(env or {})
        self._master, slave = pty.openpty()
        self._output = bytearray()
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "apertis_tui", *args],
            stdin=slave, stdout=slave, stderr=slave, env=environment, start_new_session=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        """Read the terminal so the app never blocks writing to it."""
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._output += data

    @property
    def raw(self) -> bytes:
        with self._lock:
            return bytes(self._output)

    @property
    def text(self) -> str:
        """What was written, escape sequences removed (words on one screen row stay together)."""
        return _ESCAPES.sub(b"", self.raw).decode("utf-8", "replace")

    def write(self, data: bytes) -> None:
        os.write(self._master, data)

    def wait_until(self, condition: Callable[[], object], timeout: float = 30, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the app wrote:\n{self.text[-3000:]}")
            time.sleep(0.02)

    def wait_for_text(self, text: str, timeout: float = 30) -> None:
        self.wait_until(lambda: text in self.text, timeout, repr(text))

    def wait(self, timeout: float = 15) -> int:
        return self.process.wait(timeout=timeout)

    def quit(self, timeout: float = 15) -> int:
        """ctrl+q, as the user quits; the exit code."""
        self.write(b"\x11")
        return self.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            self.process.wait(timeout=10)
        self._reader.join(timeout=2)
        try:
            os.close(self._master)
        except OSError:
            pass

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
