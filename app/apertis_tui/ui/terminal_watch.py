"""Quitting when the terminal goes away.

A terminal window closed, an ssh connection dropped, ``tmux kill-server``: the app may get a
SIGHUP, or (when it is not the terminal's foreground job, as under ``make``) nothing at all. Then
every read of its input returns at once with nothing, and Textual 8's input thread loops on that,
burning a core for good. So: SIGHUP quits, and every two seconds the terminal is asked for its
settings, which fails once it has hung up. Quitting runs the usual shutdown, so an answer still
arriving is stopped and saved.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)
CHECK_EVERY = 2.0  # seconds; one cheap system call each


def watch_terminal(app: "App") -> None:
    """Quit ``app`` when its terminal hangs up. Nothing to do headless or off POSIX."""
    if app.is_headless or sys.platform == "win32" or sys.__stdin__ is None:
        return
    import termios

    try:
        fd = sys.__stdin__.fileno()
        termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):
        return  # not a terminal: nothing to watch

    def gone(why: str) -> None:
        log.info("the terminal went away (%s): quitting", why)
        app.exit(return_code=129)

    def check() -> None:
        try:
            termios.tcgetattr(fd)
        except (OSError, termios.error):
            gone("it hung up")

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, gone, "SIGHUP")
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    app.set_interval(CHECK_EVERY, check, name="terminal watch")
