"""Incremental Markdown rendering for long, streamed answers.

Re-rendering a whole answer on every token costs time that grows with the square of its length.
Instead the text is split into top-level blocks; a block whose end has been seen is rendered once
(at a given width) and its lines are kept. Only the open tail - the text after the last closed
block - is rendered again as tokens arrive.
"""

from __future__ import annotations

import re
import time
from rich.console import Console, ConsoleOptions, RenderableType
from rich.text import Text
from textual.strip import Strip

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class Block:
    """A closed piece of the text. ``joined``: it continues the block before it (a long paragraph
    or code block cut into pieces), so no blank line goes between them."""

    __slots__ = ("text", "joined")  # (not a dataclass: those cost the start-up ~0.3 ms each)

    def __init__(self, text: str, joined: bool = False) -> None:
        self.text, self.joined = text, joined

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Block) and (self.text, self.joined) == (other.text, other.joined)

    def __repr__(self) -> str:
        return f"Block({self.text!r}, joined={self.joined})"


class BlockSplitter:
    """Finds where top-level Markdown blocks end in text that keeps growing.

    A block ends at a blank line outside a code fence that is followed by a line starting in
    column 0 (an indented line may continue a list item, so it does not end anything).
    A paragraph or code block that grows past a size limit is cut into pieces at line ends, so
    the open tail - rendered again on every frame - stays small however long the answer. The
    cuts depend only on the text, never on how it arrived, so a reloaded answer looks the same.
    """

    MAX_BLOCK_CHARS = 4000
    MAX_FENCE_LINES = 120

    def __init__(self) -> None:
        self._closed: list[str] = []  # the text of closed blocks, as it arrived
        self._open = ""  # the text after the last closed block: all that is scanned again
        self._scan = 0  # start (in ``_open``) of the first line not yet scanned
        self._fence: str | None = None  # the opening marker while inside a fence
        self._fence_open = ""  # the fence's opening line, to reopen it after a cut
        self._fence_lines = 0
        self._prefix = ""  # reopened fence line that the current block starts with
        self._joined = False  # the current block continues the previous one
        self._blank_start: int | None = None  # start of a run of blank lines outside fences
        self._previous_line = ""

    @property
    def text(self) -> str:
        """Everything fed so far."""
        if len(self._closed) > 1:
            self._closed = ["".join(self._closed)]
        return (self._closed[0] if self._closed else "") + self._open

    def feed(self, more: str) -> list[Block]:
        """Add text; return the blocks that it closed, in order."""
        # Only the open part grows, and blocks close every few thousand characters, so adding
        # text stays cheap however long the answer gets.
        self._open += more
        closed: list[Block] = []
        while True:
            newline = self._open.find("\n", self._scan)
            if newline < 0:
                break
            start, self._scan = self._scan, newline + 1
            block = self._line(self._open, start, newline)
            if block is not None:
                closed.append(block)
        return closed

    def _close(self, end: int, next_start: int, *, suffix: str = "", joined_next: bool = False) -> Block | None:
        """Close the open block at ``end``; the next one starts at ``next_start`` (in ``_open``)."""
        body = (self._prefix + self._open[:end]).rstrip("\n") + suffix
        block = Block(body, self._joined) if body.strip() else None
        self._closed.append(self._open[:next_start])
        self._open = self._open[next_start:]
        self._scan -= next_start
        if self._blank_start is not None:
            self._blank_start -= next_start
        self._prefix, self._joined = "", joined_next
        return block

    def _line(self, text: str, start: int, end: int) -> Block | None:
        line = text[start:end]
        previous, self._previous_line = self._previous_line, line
        if self._fence is not None:
            stripped = line.strip()
            if stripped.startswith(self._fence) and set(stripped) == {self._fence[0]}:
                self._fence = None
                return None
            self._fence_lines += 1
            if self._fence_lines >= self.MAX_FENCE_LINES:
                # Close this piece of the code block after this line and reopen it in the next.
                block = self._close(end, end + 1, suffix="\n" + self._fence, joined_next=True)
                self._prefix = self._fence_open + "\n"
                self._fence_lines = 0
                return block
            return None
        if not line.strip():
            if self._blank_start is None:
                self._blank_start = start
            return None
        block = None
        if self._blank_start is not None:
            blank_start, self._blank_start = self._blank_start, None
            if line[0] not in " \t":
                block = self._close(blank_start, start)
        elif (
            start >= self.MAX_BLOCK_CHARS
            and line[0] not in " \t|"
            and not previous.lstrip().startswith("|")
            and not _FENCE.match(line)
        ):
            block = self._close(start, start, joined_next=True)
        match = _FENCE.match(line)
        if match:
            self._fence = match.group(1)
            self._fence_open = line.strip()
            self._fence_lines = 0
        return block

    @property
    def tail(self) -> str:
        return self._prefix + self._open

    @property
    def tail_joined(self) -> bool:
        return self._joined


class LineSplitter:
    """For plain text: everything up to the last newline is closed (blank lines kept)."""

    tail_joined = True

    def __init__(self) -> None:
        self._closed: list[str] = []
        self._open = ""

    @property
    def text(self) -> str:
        return "".join(self._closed) + self._open

    def feed(self, more: str) -> list[Block]:
        self._open += more
        newline = self._open.rfind("\n")
        if newline < 0:
            return []
        block = self._open[:newline]
        self._closed.append(self._open[: newline + 1])
        self._open = self._open[newline + 1 :]
        return [Block(block, joined=True)]

    @property
    def tail(self) -> str:
        return self._open


def markdown_renderable(text: str, code_theme: str = "monokai") -> RenderableType:
    from .markdown import ChatMarkdown  # Rich's Markdown and markdown-it: not needed for the first frame

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


class RenderedBlocks:
    """Text split into blocks, each rendered once per width and kept.

    ``markdown`` chooses Markdown or plain text. ``append`` is cheap; ``lines`` renders what is
    new since the last call: newly closed blocks once, and the open tail again.
    """

    def __init__(self, markdown: bool = True) -> None:
        self.markdown = markdown
        self.splitter: BlockSplitter | LineSplitter = BlockSplitter() if markdown else LineSplitter()
        self.blocks: list[Block] = []
        self._width = 0
        # Per block, its lines at ``_width``, or None if not yet rendered. Usually rendered in
        # order; see ``lines(end_first=...)`` for when they are not.
        self._parts: list[list[Strip] | None] = []
        self._pending = 0  # how many of ``_parts`` are None
        self._next = 0  # first block that may still be unrendered, rendering in order
        self._flat: list[Strip] = []  # the parts of blocks[:_flat_blocks], joined
        self._flat_blocks = 0  # how many blocks are in ``_flat`` (all rendered)
        self._tail_lines: list[Strip] = []
        self._tail_dirty = True
        self.closed = False  # the text is complete: the tail is a block like any other
        self.size = 0  # characters fed: cheaper to ask than ``len(text)``
        self.words = 0  # about (a word cut between two pieces counts twice until ``close``)

    def _add_blocks(self, blocks: list[Block]) -> None:
        self.blocks.extend(blocks)
        self._parts.extend([None] * len(blocks))
        self._pending += len(blocks)

    def append(self, text: str) -> None:
        if text:
            self._add_blocks(self.splitter.feed(text))
            self.size += len(text)
            self.words += len(text.split())
            self._tail_dirty = True

    def close(self) -> None:
        if not self.closed:
            tail = self.splitter.tail
            if self.markdown:
                tail = tail.strip("\n")
            if tail.strip() or (not self.markdown and tail):
                self._add_blocks([Block(tail, self.splitter.tail_joined)])
            self.closed = True
            self._tail_dirty = True
            self.words = len(self.text.split())

    @property
    def text(self) -> str:
        return self.splitter.text

    def _render(self, console: Console, text: str, width: int) -> list[Strip]:
        options = console.options.update(width=max(1, width), height=None, highlight=False, markup=False)
        if self.markdown:
            return render_to_strips(console, markdown_renderable(text), options)
        return [Strip(line) for line in console.render_lines(Text(text), options, pad=False, new_lines=False)]

    def _needs_separator(self, block: Block, before: list[Strip]) -> bool:
        """A blank line between Markdown blocks, none inside a block cut into pieces (nor
        before the first lines)."""
        return bool(before) and self.markdown and not block.joined

    def _render_block(self, console: Console, index: int) -> None:
        self._parts[index] = self._render(console, self.blocks[index].text, self._width)
        self._pending -= 1

    def _estimate(self, block: Block) -> int:
        """About how many lines a block not yet rendered will take (its stand-in's height)."""
        width = max(1, self._width)
        return sum(max(1, -(-len(line) // width)) for line in block.text.split("\n"))

    @property
    def behind(self) -> bool:
        """Some closed blocks are not rendered yet (a ``budget`` ran out)."""
        return self._pending > 0

    def lines(self, console: Console, width: int, budget: float | None = None, *, end_first: int = 0) -> list[Strip]:
        """The lines at ``width``. With a ``budget`` (seconds), stop rendering newly closed blocks
        when it is spent and leave the rest (and the tail) for the next call, so a burst of text
        from a fast server never holds the screen for long.

        ``end_first`` (lines): when behind, first render the end - the tail and the last closed
        blocks, up to that many lines - then the rest in order. Blocks still not rendered stand
        in as blank lines of about their height. For a view that shows the end: a burst of text
        is on screen at once, and what scrolled past is filled in on the next calls.
        """
        if width != self._width:
            self._width = width
            self._parts = [None] * len(self.blocks)
            self._pending, self._next = len(self.blocks), 0
            self._flat, self._flat_blocks = [], 0
            self._tail_dirty = True
        deadline = None if budget is None else time.perf_counter() + budget
        if end_first and self._pending:
            self._render_end(console, end_first)
        # Closed blocks not yet rendered at this width, in order.
        parts = self._parts
        while self._pending and self._next < len(parts):
            if parts[self._next] is None:
                self._render_block(console, self._next)
                if deadline is not None and time.perf_counter() > deadline:
                    self._next += 1
                    break
            self._next += 1
        if self._pending and not end_first:
            return self._joined()  # the tail waits until the blocks before it are rendered
        if self._tail_dirty:
            self._render_tail(console)
        joined = self._joined()
        if not self._tail_lines:
            return joined
        tail_block = Block("", self.splitter.tail_joined)
        return joined + ([Strip.blank(0)] if self._needs_separator(tail_block, joined) else []) + self._tail_lines

    def _render_tail(self, console: Console) -> None:
        tail = "" if self.closed else self.splitter.tail
        if self.markdown:
            tail = tail.strip("\n")
        self._tail_lines = self._render(console, tail, self._width) if tail.strip() else []
        self._tail_dirty = False

    def _render_end(self, console: Console, wanted: int) -> None:
        if self._tail_dirty:
            self._render_tail(console)
        have = len(self._tail_lines)
        for index in range(len(self._parts) - 1, -1, -1):
            if have >= wanted:
                break
            if self._parts[index] is None:
                self._render_block(console, index)
            have += len(self._parts[index] or ())

    def _joined(self) -> list[Strip]:
        """The closed blocks' lines; a block not yet rendered stands in as blank lines."""
        flat, blocks, parts = self._flat, self.blocks, self._parts
        while self._flat_blocks < len(blocks) and parts[self._flat_blocks] is not None:
            self._extend(flat, blocks[self._flat_blocks], parts[self._flat_blocks])  # type: ignore[arg-type]
            self._flat_blocks += 1
        if self._flat_blocks == len(blocks):
            return flat
        lines = list(flat)
        for block, part in zip(blocks[self._flat_blocks :], parts[self._flat_blocks :]):
            self._extend(lines, block, [Strip.blank(0)] * self._estimate(block) if part is None else part)
        return lines

    def _extend(self, lines: list[Strip], block: Block, part: list[Strip]) -> None:
        if part and self._needs_separator(block, lines):
            lines.append(Strip.blank(0))
        lines.extend(part)
