"""Incremental Markdown rendering for long, streamed answers.

Re-rendering a whole answer on every token costs time that grows with the square of its length.
Instead the text is split into top-level blocks; a block whose end has been seen is rendered once
(at a given width) and its lines are kept. Only the open tail - the text after the last closed
block - is rendered again as tokens arrive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderableType
from rich.markdown import Heading, Markdown
from rich.text import Text
from textual.strip import Strip

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class BlockSplitter:
    """Finds where top-level Markdown blocks end in text that keeps growing.

    A block ends at a blank line outside a code fence that is followed by a line starting in
    column 0 (an indented line may continue a list item, so it does not end anything).
    """

    def __init__(self) -> None:
        self.text = ""
        self.closed_end = 0  # text[:closed_end] is closed blocks; the rest is the open tail
        self._scan = 0  # start of the first line not yet scanned
        self._fence: str | None = None  # the opening marker while inside a fence
        self._blank_start: int | None = None  # start of a run of blank lines outside fences

    def feed(self, more: str) -> list[str]:
        """Add text; return the blocks that it closed, in order."""
        self.text += more
        closed: list[str] = []
        text = self.text
        while True:
            newline = text.find("\n", self._scan)
            if newline < 0:
                break
            start, self._scan = self._scan, newline + 1
            block = self._line(text, start, newline)
            if block is not None:
                closed.append(block)
        return closed

    def _line(self, text: str, start: int, end: int) -> str | None:
        line = text[start:end]
        if self._fence is not None:
            stripped = line.strip()
            if stripped.startswith(self._fence) and set(stripped) == {self._fence[0]}:
                self._fence = None
            return None
        if not line.strip():
            if self._blank_start is None:
                self._blank_start = start
            return None
        block = None
        if self._blank_start is not None:
            if line[0] not in " \t":
                block = text[self.closed_end : self._blank_start].rstrip("\n")
                self.closed_end = start
            self._blank_start = None
        match = _FENCE.match(line)
        if match:
            self._fence = match.group(1)
        return block or None

    @property
    def tail(self) -> str:
        return self.text[self.closed_end :]


class LineSplitter:
    """For plain text: everything up to the last newline is closed (blank lines kept)."""

    def __init__(self) -> None:
        self.text = ""
        self.closed_end = 0

    def feed(self, more: str) -> list[str]:
        self.text += more
        newline = self.text.rfind("\n")
        if newline < self.closed_end:
            return []
        block, self.closed_end = self.text[self.closed_end : newline], newline + 1
        return [block]

    @property
    def tail(self) -> str:
        return self.text[self.closed_end :]


class _LeftHeading(Heading):
    """Rich centres h1; in a chat every heading reads better flush left."""

    LEVEL_ALIGN: ClassVar[dict[str, str]] = {f"h{n}": "left" for n in range(1, 7)}  # type: ignore[assignment]


class ChatMarkdown(Markdown):
    elements = {**Markdown.elements, "heading_open": _LeftHeading}


def markdown_renderable(text: str, code_theme: str = "monokai") -> RenderableType:
    # hyperlinks=False: links show as "text (url)" instead of live terminal links.
    return ChatMarkdown(text, code_theme=code_theme, hyperlinks=False)


def render_to_strips(console: Console, renderable: RenderableType, options: ConsoleOptions) -> list[Strip]:
    strips = [Strip(line) for line in console.render_lines(renderable, options, pad=False, new_lines=False)]
    # Rich puts empty lines around some blocks; the spacing between blocks is ours to set.
    start, end = 0, len(strips)
    while start < end and not strips[start].cell_length:
        start += 1
    while end > start and not strips[end - 1].cell_length:
        end -= 1
    return strips[start:end]


def text_strips(console: Console, text: Text, width: int) -> list[Strip]:
    options = console.options.update(width=max(1, width), height=None, highlight=False, markup=False)
    return render_to_strips(console, text, options)


@dataclass
class RenderedBlocks:
    """Text split into blocks, each rendered once per width and kept.

    ``markdown`` chooses Markdown or plain text. ``append`` is cheap; ``lines`` renders what is
    new since the last call: newly closed blocks once, and the open tail again.
    """

    markdown: bool = True
    splitter: BlockSplitter | LineSplitter = field(init=False)
    blocks: list[str] = field(default_factory=list)
    _width: int = 0
    _block_lines: list[list[Strip]] = field(default_factory=list)
    _flat: list[Strip] = field(default_factory=list)  # closed blocks' lines, with separators
    _tail_lines: list[Strip] = field(default_factory=list)
    _tail_dirty: bool = True
    closed: bool = False  # the text is complete: the tail is a block like any other

    def __post_init__(self) -> None:
        self.splitter = BlockSplitter() if self.markdown else LineSplitter()

    def append(self, text: str) -> None:
        if text:
            self.blocks.extend(self.splitter.feed(text))
            self._tail_dirty = True

    def close(self) -> None:
        if not self.closed:
            tail = self.splitter.tail
            self.splitter.closed_end = len(self.splitter.text)
            if self.markdown:
                tail = tail.strip("\n")
            if tail.strip():
                self.blocks.append(tail)
            self.closed = True
            self._tail_dirty = True

    @property
    def text(self) -> str:
        return self.splitter.text

    def _render_block(self, console: Console, block: str, width: int) -> list[Strip]:
        options = console.options.update(width=max(1, width), height=None, highlight=False, markup=False)
        renderable = markdown_renderable(block) if self.markdown else Text(block)
        return render_to_strips(console, renderable, options)

    def lines(self, console: Console, width: int) -> list[Strip]:
        if width != self._width:
            self._width = width
            self._block_lines = []
            self._flat = []
            self._tail_dirty = True
        # Closed blocks not yet rendered at this width.
        for block in self.blocks[len(self._block_lines) :]:
            rendered = self._render_block(console, block, width)
            if self._flat and self.markdown:
                self._flat.append(Strip.blank(0))
            self._flat.extend(rendered)
            self._block_lines.append(rendered)
        if self._tail_dirty:
            tail = "" if self.closed else self.splitter.tail
            if self.markdown:
                tail = tail.strip("\n")
            self._tail_lines = self._render_block(console, tail, width) if tail.strip() else []
            if self._tail_lines and self._flat and self.markdown:
                self._tail_lines.insert(0, Strip.blank(0))
            self._tail_dirty = False
        if not self._tail_lines:
            return self._flat
        return self._flat + self._tail_lines

