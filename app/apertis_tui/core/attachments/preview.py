"""Showing an image in the terminal itself: which protocol the terminal speaks (from its
environment) and the escape sequences that draw a picture with it.

- kitty's graphics protocol: kitty and Ghostty (``TERM=xterm-kitty``, ``KITTY_WINDOW_ID``,
  ``TERM_PROGRAM=ghostty``); PNG data, sent in chunks of 4,096 base64 characters;
- iTerm2's inline images (OSC 1337): iTerm2 and WezTerm (``TERM_PROGRAM``).

Inside tmux or screen neither reaches the terminal (tmux drops them unless told to pass them
through), and sixel terminals cannot be told apart from their environment: there, None, and the
app says the image's size instead.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Literal

Protocol = Literal["kitty", "iterm"]
CHUNK = 4096


def image_protocol(env: Mapping[str, str]) -> Protocol | None:
    term, program = env.get("TERM", ""), env.get("TERM_PROGRAM", "")
    if env.get("TMUX") or term.startswith(("screen", "tmux")) or program == "tmux":
        return None
    if program in ("iTerm.app", "WezTerm"):
        return "iterm"
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID") or program == "ghostty":
        return "kitty"
    return None


def fit(width: int, height: int, columns: int, rows: int) -> tuple[int, int]:
    """The cells (columns, rows) an image of ``width``×``height`` pixels takes at most, its
    shape kept, within ``columns``×``rows`` (a cell is about twice as tall as wide)."""
    width, height = max(1, width), max(1, height)
    cols = columns
    needed = max(1, round(cols * height / width / 2))
    if needed > rows:
        needed = rows
        cols = max(1, round(rows * 2 * width / height))
    return min(cols, columns), needed


def as_png(data: bytes) -> bytes:
    """Image bytes as PNG (kitty draws PNG); Pillow, so call it off the event loop."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        out = io.BytesIO()
        image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, "PNG")
        return out.getvalue()


def kitty_sequence(png: bytes, columns: int, rows: int) -> str:
    """Draw ``png`` at the cursor over ``columns``×``rows`` cells (kitty graphics protocol)."""
    encoded = base64.standard_b64encode(png).decode("ascii")
    chunks = [encoded[i: i + CHUNK] for i in range(0, len(encoded), CHUNK)] or [""]
    out = []
    for index, chunk in enumerate(chunks):
        more = 1 if index < len(chunks) - 1 else 0
        control = f"a=T,f=100,q=2,c={columns},r={rows},m={more}" if index == 0 else f"m={more}"
        out.append(f"\x1b_G{control};{chunk}\x1b\\")
    return "".join(out)


def iterm_sequence(data: bytes, columns: int, rows: int) -> str:
    """Draw image ``data`` (PNG, JPEG, GIF) at the cursor (iTerm2's OSC 1337, also WezTerm's)."""
    encoded = base64.standard_b64encode(data).decode("ascii")
    return (f"\x1b]1337;File=inline=1;size={len(data)};width={columns};height={rows};"
            f"preserveAspectRatio=1:{encoded}\x07")
