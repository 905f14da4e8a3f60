"""One message of a conversation, drawn line by line from cached renders.

A message is one widget (label, reasoning, body, status) using Textual's Line API: the screen
asks for the lines it shows, and they come from lists rendered once. While an answer streams,
new text only marks the widget dirty; it is redrawn at most once per frame, and a redraw
renders only the open tail of the Markdown (see ``ui.render``).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from rich.panel import Panel
from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.geometry import Size
from textual.message import Message as WidgetMessage
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from ...core.text import one_line
from ...core.timefmt import message_time
from ...core.types import Message, MessageStatus
from .. import key_first
from ..render import RenderedBlocks, render_to_strips, text_strips
from ..tool_blocks import FOLDED_LINES, CallBlock, call_blocks, fold_note, render_calls
from ..textual_internals import LayoutOnce

from ..pacing import (CATCH_UP_BUDGET, CATCH_UP_FRAME, COLUMN_REDRAWS, END_MARGIN, MAX_FRAME, MIN_FRAME,
                      RENDER_BUDGET)

if TYPE_CHECKING:
    from ...core.events import FallbackUsed


_STATUS_NOTES: dict[str, str] = {
    "stopped": "■ stopped — ctrl+g regenerates",
    "interrupted": "■ interrupted: the app closed while this answer was arriving — ctrl+g regenerates",
}


_TOOL_STATUS = {"error": "✗ failed", "refused": "refused", "stopped": "■ stopped"}

#: When (time.monotonic) the next of a comparison's streaming columns may be redrawn.
_next_slot = 0.0


class MessageView(LayoutOnce, Widget):
    """A user or assistant message, or a tool's result ("tool": plain text, folded when long)."""

    COMPONENT_CLASSES = {
        "message--user-label",
        "message--assistant-label",
        "message--meta",
        "message--versions",
        "message--reasoning",
        "message--note",
        "message--error",
        "message--tool-label",
        "message--asking",
        "message--source",
        "message--chip",
    }

    # Here rather than in styles/base.tcss: parsed when the first message is shown, which
    # keeps it off the start of an empty chat.
    DEFAULT_CSS = """
    MessageView { height: auto; padding: 0 1; margin: 0 0 1 0; }

    MessageView.-user {
        background: $boost;
    }

    /* The selected message (ctrl+up): an outline draws over the padding, so nothing moves. */
    MessageView.-selected {
        outline-left: thick $accent;
    }

    MessageView > .message--user-label {
        color: $text-secondary;  /* $secondary is a background colour: dark blue on dark in textual-dark */
        text-style: bold;
    }

    MessageView > .message--assistant-label {
        color: $primary;
        text-style: bold;
    }

    MessageView > .message--versions {
        color: $accent;
        text-style: bold;
    }

    MessageView > .message--meta {
        color: $text-muted;
        text-style: none;
    }

    MessageView > .message--reasoning {
        color: $text-muted;
        text-style: italic;
    }

    MessageView > .message--note {
        color: $warning;
    }

    MessageView > .message--error {
        color: $error;
    }

    /* A tool's result: indented under the call it answers, quieter than a reply. */
    MessageView.-tool {
        padding: 0 1 0 3;
        color: $text-muted;
    }

    MessageView > .message--tool-label {
        color: $secondary;
        text-style: bold;
    }

    MessageView > .message--asking {
        color: $warning;
        text-style: bold;
    }

    /* A web search's source: its title links to it (OSC 8). */
    MessageView > .message--source {
        color: $text-accent;
        text-style: underline;
    }
    MessageView > .message--chip {
        background: $surface;
        color: $text;
    }
    """

    class ChipsClicked(WidgetMessage):
        """A click on the attachments of a message: list them (a preview is one key away)."""

        def __init__(self, message: Message) -> None:
            super().__init__()
            self.message = message

    def __init__(self, message: Message, *, streaming: bool = False, in_column: bool = False) -> None:
        """``in_column``: an answer in a comparison's column, whose header names its model and
        figures (no label here) and where ctrl+g does not retry it."""
        super().__init__(classes=f"-{message.role}")
        self.in_column = in_column
        # A column's answer is drawn by its comparison row (a CompareRow), not by itself.
        self.column_row = None
        self._lines: list[Strip] = []
        self._style: Style | None = None
        # (id of a line, width) -> (that line, its drawn form). Holding the line keeps its id
        # from being reused by another line while the entry exists.
        self._styled: dict[tuple[int, int], tuple[Strip, Strip]] = {}
        self._width = 0
        self._dirty = True
        self._timer: Timer | None = None
        self._frame = MIN_FRAME
        self._chip_rows = range(0)  # the lines that show the attachments
        self._load(message, streaming)

    def _load(self, message: Message, streaming: bool) -> None:
        self.message = message
        self.body = RenderedBlocks(markdown=message.role == "assistant")
        self.reasoning = RenderedBlocks(markdown=False)
        self.reasoning_open = False
        self.versions: tuple[int, int] | None = None  # (which, of how many) versions of this turn
        self.calls: list[CallBlock] = call_blocks(message.tool_calls)  # the tool calls it makes
        self.unfolded = False  # long arguments and results are shown whole
        self._folded_lines = 0  # lines the last drawing folded away
        self.streaming = streaming
        self._live = streaming
        self.searching = False  # the server said it searches the web (shown until the answer begins)
        if message.content:
            self.body.append(message.content)
        if message.reasoning:
            self.reasoning.append(message.reasoning)
        if not streaming:
            self.body.close()
            self.reasoning.close()

    def show_message(self, message: Message) -> None:
        """Show another (finished) message in this widget: flipping to another version of a
        turn reuses the widget, which is cheaper than a new one (styles, mounting)."""
        self.set_class(False, f"-{self.message.role}")
        self.set_class(True, f"-{message.role}")
        self._load(message, streaming=False)
        self._styled.clear()
        self._invalidate(now=self.is_mounted)

    # -- feeding -------------------------------------------------------------

    def append(self, content: str = "", reasoning: str = "") -> None:
        """More streamed text. Cheap: drawing happens at most once per frame."""
        if content:
            self.body.append(content)
        if reasoning:
            self.reasoning.append(reasoning)
        self._invalidate()

    def finish(self, message: Message) -> None:
        """The answer is over: show its final status (stopped, error, ...)."""
        self.message = message
        self.streaming = False
        self.body.close()
        self.reasoning.close()
        self._invalidate(now=True)

    def set_cost(self, message: Message) -> None:
        """Its measured cost arrived (after the answer ended): on the label."""
        self.message = message
        self._invalidate(now=self.is_mounted)

    def set_searching(self, on: bool) -> None:
        self.searching = on
        self._invalidate(now=self.is_mounted)

    def show_sources(self, sources: "tuple[WebSource, ...]") -> None:
        """A web search's sources, while the answer still arrives (the stored reply has them after)."""
        self.message = dataclasses.replace(self.message, sources=sources)
        self._invalidate()

    def served_by(self, served: "FallbackUsed") -> None:
        """A fallback model is writing this answer: label it with that model, and which one failed."""
        self.message = dataclasses.replace(self.message, model=served.actual or self.message.model,
                                           fallback=served.record())
        self._invalidate(now=self.is_mounted)

    def set_versions(self, versions: tuple[int, int] | None) -> None:
        if versions != self.versions:
            self.versions = versions
            self._invalidate(now=self.is_mounted)

    @property
    def foldable(self) -> bool:
        """Tool arguments or a result are long enough to be folded (as drawn at this width)."""
        return self.unfolded or self._folded_lines > 0

    def toggle_fold(self) -> None:
        self.unfolded = not self.unfolded
        self._invalidate(now=True)

    def set_calls(self, calls: list[CallBlock]) -> None:
        """The tool calls of an answer that just ended (they are then updated in place)."""
        self.calls = calls
        self._invalidate(now=self.is_mounted)

    def calls_changed(self) -> None:
        """A call's state changed (or a running call's elapsed time moved on)."""
        self._invalidate(now=self.is_mounted)

    def toggle_reasoning(self) -> None:
        if self.reasoning.size:
            self.reasoning_open = not self.reasoning_open
            self._invalidate(now=True)

    @property
    def text(self) -> str:
        return self.body.text

    def _invalidate(self, now: bool = False) -> None:
        self._dirty = True
        if now:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self._redraw()
        elif self._timer is None and self.is_mounted:
            self._timer = self.set_timer(self._pace(), self._redraw)

    def _pace(self) -> float:
        """Seconds until the next redraw. A comparison's columns streaming at once share
        COLUMN_REDRAWS a second, one at a time: six at the pace of one asked for more than the
        loop could do, and redraws of columns that started together stayed in step."""
        global _next_slot
        if not (self.in_column and self.streaming):
            return self._frame
        now = time.monotonic()
        slot = max(now + self._frame, _next_slot)
        _next_slot = slot + 1 / COLUMN_REDRAWS
        return slot - now

    def _redraw(self) -> None:
        self._timer = None
        if self.streaming and key_first.pending():  # a typed key first; this right after its frame
            self._timer = self.set_timer(key_first.KEY_FIRST_POLL, self._redraw)
            return
        if not self._width:
            self._changed(layout=True)
            return
        started = time.perf_counter()
        before = len(self._lines)
        self._build(self._width)
        # Give the event loop room: a redraw that took long is not repeated at once.
        self._frame = min(MAX_FRAME, max(MIN_FRAME, 2 * (time.perf_counter() - started)))
        self._changed(layout=len(self._lines) != before)
        if self.body.behind:  # a burst is still being rendered: carry on next frame
            if not self.streaming:  # nothing else is arriving: catch up, yielding briefly
                self._frame = CATCH_UP_FRAME
            self._invalidate()

    def _changed(self, layout: bool) -> None:
        if self.column_row is not None:
            self.column_row.column_changed(layout)
        else:
            self.refresh(layout=layout)

    # -- drawing -------------------------------------------------------------

    def lines_at(self, width: int) -> list[Strip]:
        """The lines at ``width`` (for a comparison's row, which draws them)."""
        if width != self._width or (self._dirty and self._timer is None):
            self._build(width)
        return self._lines

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # New streamed text waits for its redraw (at most a frame away) rather than being
        # rendered here too: layout would otherwise render the open tail a second time.
        return len(self.lines_at(width))

    def _build(self, width: int) -> None:
        self._width = width
        self._dirty = False
        console = self.app.console
        lines = [] if self.in_column else [self._label_strip()]
        self._chip_rows = range(0)
        if self.message.attachments:
            chips = self._chip_strips(width)
            self._chip_rows = range(len(lines), len(lines) + len(chips))
            lines.extend(chips)
        if self.reasoning.size:
            lines.append(self._reasoning_header())
            if self.reasoning_open:
                style = self.get_component_rich_style("message--reasoning")
                lines.extend(s.apply_style(style) for s in self.reasoning.lines(console, max(1, width - 2)))
                lines.append(Strip.blank(0))
        # An answer that arrived live is rendered a budget at a time, to its end, even after
        # it finished; a stored one is rendered whole when first shown.
        budget = (RENDER_BUDGET if self.streaming else CATCH_UP_BUDGET) if self._live else None
        end_first = self._end_in_view() if self._live else 0
        if end_first and budget is not None and self.streaming:
            budget /= 2  # what scrolled past is out of sight: fill it in more slowly while text arrives
        body = self.body.lines(console, width, budget, end_first=end_first)
        self._folded_lines = 0
        if self.message.role == "tool" and not self.unfolded and len(body) > FOLDED_LINES + 1:
            self._folded_lines = len(body) - FOLDED_LINES
            body = body[:FOLDED_LINES] + text_strips(console, Text(
                fold_note(self._folded_lines), style=self.get_component_rich_style("message--meta")), width)
        lines.extend(body)
        if self.calls:
            if body:
                lines.append(Strip.blank(0))
            calls, hidden = render_calls(
                console, self.calls, width, unfolded=self.unfolded,
                name_style=self.get_component_rich_style("message--tool-label"),
                dim_style=self.get_component_rich_style("message--meta"),
                asking_style=self.get_component_rich_style("message--asking"),
            )
            lines.extend(calls)
            self._folded_lines += hidden
        if self.message.sources or self.message.web_search is not None:
            lines.extend(self._sources(width, after=bool(body or self.calls)))
        lines.extend(self._footer(width))
        self._lines = lines
        if len(self._styled) > 2 * len(lines) + 64:  # drop drawn forms of lines that are gone
            alive = {id(line) for line in lines}
            self._styled = {key: value for key, value in self._styled.items() if key[0] in alive}

    def _end_in_view(self) -> int:
        """How many of the last lines the list shows, if it shows this message's end (it
        follows the answer): those are rendered first when a burst of text arrives."""
        parent = self.parent
        if parent is None or not getattr(parent, "at_end", False) or parent.children[-1] is not self:
            return 0
        # The screen's height bounds the list's; asking the list for its own size could make
        # Textual lay the screen out again in the middle of this (a layout asks for our height).
        return self.app.size.height + END_MARGIN

    def _label_strip(self) -> Strip:
        msg = self.message
        if msg.role == "user":
            label = Text("You", style=self.get_component_rich_style("message--user-label"))
        elif msg.role == "tool":
            label = Text(f"↳ {msg.model or 'tool'}", style=self.get_component_rich_style("message--tool-label"))
        else:
            label = Text(msg.model or "assistant", style=self.get_component_rich_style("message--assistant-label"))
        if self.versions is not None:
            label.append(f"  ‹ {self.versions[0]}/{self.versions[1]} ›",
                         style=self.get_component_rich_style("message--versions"))
        if msg.role == "assistant" and msg.fallback is not None:  # who failed and why (cleaned server text)
            failed = one_line(msg.fallback.get("from") or "the model asked for", 60)
            reason = one_line(msg.fallback.get("reason") or "", 80)
            label.append(f"  fallback for {failed}" + (f": {reason}" if reason else ""),
                         style=self.get_component_rich_style("message--meta"))
        meta = [message_time(msg.created_at)]
        if self.streaming:
            meta.append("searching the web…" if self.searching and not self.body.size and not self.reasoning.size
                        else "streaming…")
        elif msg.role == "assistant" and msg.completion_tokens:
            meta.append(f"{msg.completion_tokens} token{'s' if msg.completion_tokens != 1 else ''}")
        elif msg.role == "tool":
            if msg.duration_ms is not None:
                meta.append(f"{msg.duration_ms / 1000:.1f} s" if msg.duration_ms >= 1000 else f"{msg.duration_ms} ms")
            meta.append(_TOOL_STATUS.get(msg.status, ""))
        if msg.cost_usd is not None and not self.streaming:
            from ...core.spend import reply_cost_text

            meta.append(reply_cost_text(msg.cost_usd, msg.cost_replies))
        label.append("  " + " · ".join(m for m in meta if m), style=self.get_component_rich_style("message--meta"))
        label.no_wrap = True
        label.overflow = "ellipsis"
        return text_strips(self.app.console, label, max(1, self._width))[0]

    def _chip_strips(self, width: int) -> list[Strip]:
        """The message's attachments as chips ("▣ photo.jpg · image 4032×3024 → 2016×1512, 812 KB")."""
        from ..attachment_chips import chip_strips

        return chip_strips(self.app.console, self.message.attachments, width,
                           self.get_component_rich_style("message--chip"),
                           Style(color=self.get_component_rich_style("message--meta").color))

    def _reasoning_header(self) -> Strip:
        words = self.reasoning.words
        arrow = "▾" if self.reasoning_open else "▸"
        doing = "Thinking…" if self.streaming and not self.body.size else "Reasoning"
        hint = "ctrl+t hides" if self.reasoning_open else "ctrl+t shows"
        text = Text(f"{arrow} {doing} ({words} words, {hint})", style=self.get_component_rich_style("message--reasoning"))
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text_strips(self.app.console, text, max(1, self._width))[0]

    def _sources(self, width: int, *, after: bool) -> list[Strip]:
        from ..source_blocks import render_sources  # (here: a message without sources never needs it)

        lines = render_sources(self.app.console, self.message.web_search, self.message.sources, max(1, width),
                               dim_style=self.get_component_rich_style("message--meta"),
                               link_style=self.get_component_rich_style("message--source"))
        return ([Strip.blank(0)] if lines and after else []) + lines

    def _footer(self, width: int) -> list[Strip]:
        status: MessageStatus = self.message.status
        if self.message.role == "tool":  # its label says how it ended; its text is what the model was told
            return []
        if status == "error" and self.message.error:
            style = self.get_component_rich_style("message--error")
            body = Text(self.message.error + ("" if self.in_column else "\nctrl+g retries."))
            panel = Panel(body, title="Error", title_align="left", border_style=style, expand=True)
            options = self.app.console.options.update(width=max(4, width), height=None)
            return ([Strip.blank(0)] if self.body.size else []) + render_to_strips(self.app.console, panel, options)
        note = _STATUS_NOTES.get(status)
        if note:
            text = Text(note, style=self.get_component_rich_style("message--note"))
            return text_strips(self.app.console, text, max(1, width))
        return []

    def render_line(self, y: int) -> Strip:
        # The widget's style and each line's padded, styled form are kept: working them out
        # again for every line of every frame made garbage the collector then had to chase.
        if self._style is None:
            self._style = self.rich_style
        style, width = self._style, self.size.width
        if y >= len(self._lines):
            return Strip.blank(width, style)
        line = self._lines[y]
        key = (id(line), width)
        entry = self._styled.get(key)
        if entry is None or entry[0] is not line:
            entry = self._styled[key] = (line, line.crop_extend(0, width, style).apply_style(style))
        return entry[1]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._dirty = True
        self._style = None
        self._styled.clear()

    def on_click(self, event: Click) -> None:
        self.clicked(event.y)

    def clicked(self, y: int) -> None:
        """A click on line ``y``: the reasoning's header shows or hides it; a long tool call unfolds;
        the attachments are listed."""
        if y in self._chip_rows:
            self.post_message(self.ChipsClicked(self.message))
        elif self.reasoning.size and y == (0 if self.in_column else 1):
            self.toggle_reasoning()
        elif y > 0 and self.foldable:
            self.toggle_fold()
