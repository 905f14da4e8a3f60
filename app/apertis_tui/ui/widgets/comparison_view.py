"""A comparison in the conversation: the answers of several models to one prompt, side by side.

One row per compared turn: the prompt (after the first turn; the first is the message above
the comparison), then one cell per model, each headed by its model and its live figures. The
cells are stacked when the terminal gives a column less than ``MIN_COLUMN`` cells.

Focused (ctrl+up while comparing), it is where an answer is picked: left / right or tab move
between the columns, a digit jumps to one, enter picks it (``Picked`` goes to the chat pane,
which owns the conversation), escape goes back to the prompt.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.widgets import Static

from ...core.store.compare_report import tokens_per_second
from ...core.types import Comparison
from ...core.types import Message as StoredMessage
from .message_view import MessageView
from .status_line import StreamStats

#: Narrower columns than this are stacked instead.
MIN_COLUMN = 40


class CellHeader(Static):
    """A column's model and figures: time to first token, tokens per second, tokens."""

    DEFAULT_CSS = """
    CellHeader { height: 2; padding: 0 1; background: $boost; color: $text-muted; }
    """

    def __init__(self, number: int, model: str) -> None:
        super().__init__("", markup=False)
        self.number = number
        self.model = model
        self.figures = ""

    def show(self, stats: StreamStats | None = None, *, message: StoredMessage | None = None,
             state: str = "") -> None:
        """The figures, live (``stats`` while it streams) or stored (``message``)."""
        parts = []
        if stats is not None:
            if stats.ttft is not None:
                parts.append(f"first token {stats.ttft:.2f} s")
            rate = stats.rate
            if rate:
                parts.append(f"{rate:.0f} tok/s")
            tokens = stats.usage.completion_tokens if stats.usage and stats.usage.completion_tokens else stats.tokens
            if tokens:
                parts.append(f"{tokens} tokens")
            if not parts:
                parts.append(f"waiting {time.monotonic() - stats.started:.1f} s")
        elif message is not None:
            parts += figures(message)
        if state:
            parts.append(state)
        self.figures = " · ".join(parts)
        text = Text(f"{self.number} ", style="bold")
        text.append(self.model, style="bold")
        text.append("\n" + (self.figures or " "))
        text.no_wrap = True
        text.overflow = "ellipsis"
        self.update(text)


def figures(message: StoredMessage) -> list[str]:
    """A stored answer's figures, as the header and the report give them."""
    parts = []
    if message.ttft_ms is not None:
        parts.append(f"first token {message.ttft_ms / 1000:.2f} s")
    rate = tokens_per_second(message)
    if rate:
        parts.append(f"{rate:.0f} tok/s")
    if message.completion_tokens:
        parts.append(f"{message.completion_tokens} tokens")
    if message.status not in ("complete", "streaming"):
        parts.append(message.status)
    return parts


class CompareCell(Vertical):
    DEFAULT_CSS = """
    CompareCell { width: 1fr; height: auto; margin: 0 1 0 0; }
    CompareCell.-current > CellHeader { background: $accent 40%; color: $text; }
    CompareCell MessageView { padding: 0 1; }
    CompareRow.-stacked CompareCell { width: 100%; margin: 0 0 1 0; }
    """

    def __init__(self, column: int, model: str) -> None:
        super().__init__()
        self.column = column
        self.model = model
        self.header = CellHeader(column + 1, model)
        self.view: MessageView | None = None

    def compose(self):
        yield self.header
        if self.view is not None:  # shown before the cell was in the DOM (a comparison loaded whole)
            yield self.view

    def show(self, message: StoredMessage, *, streaming: bool = False) -> MessageView:
        self.view = MessageView(message, streaming=streaming, in_column=True)
        if self.is_attached:
            self.mount(self.view)
        if not streaming:
            self.header.show(message=message)
        return self.view

    def on_mount(self) -> None:
        if self.view is not None and not self.view.streaming:
            self.header.show(message=self.view.message)


class CompareRow(Horizontal):
    DEFAULT_CSS = """
    CompareRow { height: auto; }
    CompareRow.-stacked { layout: vertical; }
    """


class ComparisonView(Vertical, can_focus=True):
    DEFAULT_CSS = """
    ComparisonView { height: auto; margin: 0 0 1 0; }
    ComparisonView:focus { border-left: thick $accent; }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "‹ column", id="compare.previous"),
        Binding("right,tab", "move(1)", "column ›", tooltip="Next column (tab too)", id="compare.next"),
        Binding("1", "jump(0)", "Column 1 … 6", tooltip="1 … 6: that column", show=False, id="compare.jump"),
        *(Binding(str(n), f"jump({n - 1})", f"Column {n}", show=False) for n in range(2, 7)),
        Binding("enter", "pick", "Pick", tooltip="Pick this answer: the chat goes on with it and its model",
                id="compare.pick"),
        Binding("escape", "leave", "Back", tooltip="Back to the prompt", id="compare.leave"),
    ]

    current: reactive[int] = reactive(0)

    class Picked(TextualMessage):
        """The user picked column ``column``."""

        def __init__(self, view: "ComparisonView", column: int) -> None:
            super().__init__()
            self.view = view
            self.column = column

    class Left(TextualMessage):
        """Back to the prompt."""

    def __init__(self, comparison: Comparison | None, models: tuple[str, ...]) -> None:
        super().__init__()
        self.comparison = comparison
        self.models = models
        self.rows: list[list[CompareCell]] = []

    def new_turn(self, prompt: StoredMessage | None) -> list[CompareCell]:
        """A row of empty cells for the next turn (after its prompt, shown once, full width)."""
        if prompt is not None:
            self.mount(MessageView(prompt))
        cells = [CompareCell(i, model) for i, model in enumerate(self.models)]
        row = CompareRow(*cells)
        row.set_class(self._stacked(self.size.width), "-stacked")
        self.mount(row)
        self.rows.append(cells)
        self.watch_current(self.current)
        return cells

    def _stacked(self, width: int) -> bool:
        return bool(width) and width // max(1, len(self.models)) < MIN_COLUMN

    def on_resize(self, event: Resize) -> None:
        for row in self.query_children(CompareRow):
            row.set_class(self._stacked(event.size.width), "-stacked")

    def watch_current(self, column: int) -> None:
        for cells in self.rows:
            for cell in cells:
                cell.set_class(cell.column == column, "-current")

    def action_move(self, step: int) -> None:
        self.current = (self.current + step) % len(self.models)
        self._show_current()

    def action_jump(self, column: int) -> None:
        if column < len(self.models):
            self.current = column
            self._show_current()

    def _show_current(self) -> None:
        if self.rows:
            self.rows[-1][self.current].scroll_visible()

    def action_pick(self) -> None:
        self.post_message(self.Picked(self, self.current))

    def action_leave(self) -> None:
        self.post_message(self.Left())
