"""Previewing an attachment: an image drawn by the terminal itself where it can (kitty, Ghostty:
kitty's protocol; iTerm2, WezTerm: OSC 1337), on the whole screen while the app is suspended,
until a key is pressed; everywhere else (and for text), a notification says what it is and its size.

The bytes are read and converted (Pillow) in a thread; only the drawing happens on the loop,
with the app suspended (the terminal is the preview's until a key is pressed).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.attachments.model import describe
from ..core.attachments.preview import as_png, fit, image_protocol, iterm_sequence, kitty_sequence
from ..core.types import AttachmentInfo

if TYPE_CHECKING:
    from textual.app import App


def what_it_is(info: AttachmentInfo) -> str:
    return f"{info.name}: {describe(info)}."


async def preview(app: "App", info: AttachmentInfo, load: Callable[[AttachmentInfo], bytes]) -> None:
    protocol = image_protocol(os.environ)
    if info.kind != "image" or protocol is None:
        hint = " This terminal cannot draw images (kitty, iTerm2, WezTerm and Ghostty can)." \
            if info.kind == "image" else ""
        app.notify(what_it_is(info) + hint, title="Attachment", timeout=8)
        return
    try:
        data = await asyncio.to_thread(load, info)
        if protocol == "kitty":
            data = await asyncio.to_thread(as_png, data)
    except Exception as error:  # a blob Pillow cannot read back: say so
        app.notify(f"{info.name} could not be shown ({type(error).__name__}). {describe(info)}.",
                   title="Attachment", severity="warning", timeout=8)
        return
    columns, rows = fit(info.width or 1, info.height or 1, max(10, app.size.width - 2), max(4, app.size.height - 4))
    drawing = kitty_sequence(data, columns, rows) if protocol == "kitty" else iterm_sequence(data, columns, rows)
    from textual.app import SuspendNotSupported

    try:
        with app.suspend():
            out = sys.__stdout__
            if out is None:
                return
            out.write("\x1b[2J\x1b[H" + what_it_is(info) + "\n\n" + drawing + "\n\nPress any key to go back.")
            out.flush()
            wait_for_a_key()
            # The picture would stay in the terminal's normal screen (its scrollback): taken away.
            out.write(("\x1b_Ga=d\x1b\\" if protocol == "kitty" else "") + "\x1b[2J\x1b[H")
            out.flush()
    except SuspendNotSupported:
        app.notify(what_it_is(info), title="Attachment", timeout=8)


def wait_for_a_key() -> None:
    """Block until a key is pressed (the app is suspended: the terminal is the preview's)."""
    stdin = sys.__stdin__
    if stdin is None or not stdin.isatty():
        return
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        os.read(fd, 64)  # a key, or the bytes of one escape sequence (arrows, function keys)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
