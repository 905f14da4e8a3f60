"""Attachments drawn as chips: ``▣ photo.jpg · image 4032×3024 → 2016×1512, 812 KB``.

Shared by the tray above the prompt and the sent message. Names are file names, so untrusted:
they were cleaned to one line when the attachment was made, and are only ever put into
``Text`` (never read as markup). Chips are laid out whole, several to a line as they fit; one
wider than the line is cut with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ..core.attachments.model import KIND_MARKS, describe
from ..core.types import AttachmentInfo
from .render import text_strips

GAP = 2


def chip(info: AttachmentInfo | None, name: str, *, style: Style | None = None, dim: Style | None = None,
         preparing: bool = False) -> Text:
    """One chip: a mark for the kind, the name, and what it is (or "preparing…")."""
    kind = info.kind if info is not None else "text"
    text = Text(f" {KIND_MARKS.get(kind, '≡') if info is not None else '…'} ", style=style or "")
    text.append(name, style=style or "")
    text.append(f" · {'preparing…' if preparing or info is None else describe(info)} ", style=(style or Style()) + (dim or Style()))
    return text


def chip_lines(chips: list[Text], width: int) -> list[tuple[Text, list[tuple[int, int, int]]]]:
    """The chips packed into lines of ``width`` cells: each line's text, and where each chip
    sits on it (start, end, index of the chip) for clicks."""
    width = max(4, width)
    lines: list[tuple[Text, list[tuple[int, int, int]]]] = []
    line, spans, used = Text(), [], 0
    for index, piece in enumerate(chips):
        size = cell_len(piece.plain)
        if used and used + GAP + size > width:
            lines.append((line, spans))
            line, spans, used = Text(), [], 0
        if used:
            line.append(" " * GAP)
            used += GAP
        if size > width - used:
            piece = piece.copy()
            piece.truncate(width - used, overflow="ellipsis")
            size = cell_len(piece.plain)
        spans.append((used, used + size, index))
        line.append_text(piece)
        used += size
    if spans:
        lines.append((line, spans))
    return lines


def chip_strips(console: Console, infos: Sequence[AttachmentInfo], width: int, style: Style, dim: Style) -> list[Strip]:
    """A sent message's attachments as lines of chips, ``width`` cells wide."""
    chips = [chip(info, info.name, style=style, dim=dim) for info in infos]
    return [text_strips(console, line, max(1, width))[0] for line, _ in chip_lines(chips, max(1, width))]
