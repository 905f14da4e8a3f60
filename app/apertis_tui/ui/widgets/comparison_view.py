"""A comparison in the conversation: the answers of several models to one prompt, side by side.

One row per compared turn: the prompt (after the first turn; the first is the message above
the comparison), then one cell per model, each headed by its model and its live figures. The
cells are stacked when the terminal gives a column less than ``MIN_COLUMN`` cells.

Focused (ctrl+up while comparing), it is where an answer is picked: left / right or tab move
between the columns, a digit jumps to one, enter picks it (``Picked`` goes to the chat pane,
which owns the conversation), escape goes back to the prompt; ↑ ↓ pageup pagedown home end
scroll the columns together, or the current one alone after ``s`` (``column_scroll.py``).
"""

from __future__ import annotations

import time

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Click, Resize
from textual.geometry import Region, Size
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ...core.store.compare_report import tokens_per_second
from ...core.types import Comparison
from ...core.types import Message as StoredMessage
from ..render import text_strips
from ..textual_internals import LayoutOnce
from .column_scroll import BINDINGS as COLUMN_SCROLL_BINDINGS
from .column_scroll import ColumnScroll
from .message_view import MessageView
from .status_line import StreamStats, first_token

#: Narrower columns than this are stacked instead.
MIN_COLUMN = 40


class CellHeader:
    """A column's model and figures: time to first token, tokens per second, tokens. Two
    lines drawn by its row (``CompareRow``)."""

    def __init__(self, row: "CompareRow", number: int, model: str) -> None:
        self.row = row
        self.number = number
        self.model = model
        self.figures = ""
        self.text = self._text()

    @property
    def is_attached(self) -> bool:
        return self.row.is_attached

    def show(self, stats: StreamStats | None = None, *, message: StoredMessage | None = None,
             state: str = "") -> None:
        """The figures, live (``stats`` while it streams) or stored (``message``)."""
        parts = []
        if stats is not None:
            if stats.ttft is not None:
                parts.append(first_token(stats.ttft, stats.server_timings))
            rate = stats.rate
            if rate:
                parts.append(f"{rate:.0f} tok/s")
            tokens = stats.usage.completion_tokens if stats.usage and stats.usage.completion_tokens else stats.tokens
            if tokens:
                parts.append(f"{tokens} tokens")
            if not parts:
                doing = "searching the web" if stats.searching else "waiting"
                parts.append(f"{doing} {time.monotonic() - stats.started:.1f} s")
        elif message is not None:
            parts += figures(message)
        if state:
            parts.append(state)
        self.figures = " · ".join(parts)
        self.text = self._text()
        self.row.header_changed(self.number - 1)

    def _text(self) -> Text:
        text = Text(f"{self.number} ", style="bold")
        text.append(self.model, style="bold")
        text.append("\n" + (self.figures or " "))
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text


def figures(message: StoredMessage) -> list[str]:
    """A stored answer's figures, as the header and the report give them."""
    parts = []
    if message.ttft_ms is not None:
        parts.append(first_token(message.ttft_ms / 1000, message.server_timings))
    rate = tokens_per_second(message)
    if rate:
        parts.append(f"{rate:.0f} tok/s")
    if message.completion_tokens:
        parts.append(f"{message.completion_tokens} tokens")
    if message.status not in ("complete", "streaming"):
        parts.append(message.status)
    return parts


class CompareCell:
    """One column of a row: its model, header and answer. Not a widget: the row draws it."""

    def __init__(self, row: "CompareRow", column: int, model: str) -> None:
        self.row = row
        self.column = column
        self.model = model
        self.header = CellHeader(row, column + 1, model)
        self.view: MessageView | None = None

    def show(self, message: StoredMessage, *, streaming: bool = False) -> MessageView:
        self.view = MessageView(message, streaming=streaming, in_column=True)
        self.view.column_row = self.row
        self.row.view_added(self.view)
        if not streaming:
            self.header.show(message=message)
        return self.view

    @property
    def region(self) -> Region:
        """Where the column is on the screen."""
        x, top, width, height = self.row.cell_box(self.column)
        region = self.row.region
        return Region(region.x + x, region.y + top, width, height)

    def scroll_visible(self) -> None:
        self.row.scroll_visible()


class CompareRow(LayoutOnce, Widget):
    """A turn's columns side by side (stacked when narrow), drawn as one widget with the Line
    API: each column's header and its answer's lines (rendered by a ``MessageView`` that is
    kept out of the layout) are joined line by line. Six columns as widgets (a container, a
    header and an answer each) made every frame cut and join screen lines around ~20 widgets."""

    COMPONENT_CLASSES = {"compare--header", "compare--current", "compare--cost"}

    DEFAULT_CSS = """
    CompareRow { height: auto; }
    CompareRow > .compare--header { background: $boost; color: $text-muted; }
    CompareRow > .compare--current { background: $accent 40%; color: $text; }
    CompareRow > .compare--cost { color: $text-muted; }
    """

    def __init__(self, models: tuple[str, ...]) -> None:
        super().__init__()
        self.cells = [CompareCell(self, i, model) for i, model in enumerate(models)]
        self.current = -1
        self.shifts = [0] * len(models)  # per column: its answer's lines slid past the others' (column_scroll.py)
        self._pending: list[MessageView] = []
        self._boxes: list[tuple[int, int, int, int]] = []  # per column: x, top, width, height
        self._boxes_width = -1
        self._pieces: dict[tuple[int, int], tuple[Strip, Strip]] = {}  # (id(line), width) -> (line, drawn)
        self._headers: dict[int, list[Strip]] = {}  # column -> its two drawn header lines
        self._joined: dict[int, tuple] = {}  # y -> (key, its pieces, the line drawn from them)
        self._style: Style | None = None
        self._height = 0
        self.cost = ""  # what the answers cost together (a line under the columns), once measured

    # -- the answers' views (in the comparison, hidden: drawn here) ---------------------------

    def view_added(self, view: MessageView) -> None:
        view.add_class("-column")
        if self.is_attached and self.parent is not None:
            self.parent.mount(view)
        else:
            self._pending.append(view)

    def on_mount(self) -> None:
        if self._pending and self.parent is not None:
            self.parent.mount(*self._pending)
            self._pending = []
        for cell in self.cells:
            if cell.view is not None and not cell.view.streaming:
                cell.header.show(message=cell.view.message)
        self.costs_changed()

    def costs_changed(self) -> None:
        """The answers' measured cost, once known: the line under the columns. The columns
        streamed at once, so their cost is one (with any other reply that overlapped them),
        never split among them."""
        from ...core.spend import CostRow, answers_cost_text

        cost = answers_cost_text([CostRow(m.id, m.cost_usd, m.cost_group, m.cost_replies)
                                  for m in (cell.view.message for cell in self.cells if cell.view is not None)
                                  if m.cost_usd is not None])
        if cost != self.cost:
            self.cost = cost
            self._boxes_width = -1
            self.refresh(layout=True)

    def column_changed(self, layout: bool) -> None:
        """A column's answer was drawn again."""
        # Measured again when next drawn, not only at the next layout: a frame can come first
        # (another widget's), and lines drawn from the old measure stayed in Textual's cache.
        self._boxes_width = -1
        self.refresh(layout=layout)

    def header_changed(self, column: int) -> None:
        self._headers.pop(column, None)
        if self.is_attached:
            if self._boxes_width == self.size.width and column < len(self._boxes):
                x, top, width, _ = self._boxes[column]
                self.refresh(Region(x, top, width, 2))  # those two lines only
            else:
                self.refresh()

    def set_shifts(self, shifts: dict[int, int] | None) -> None:
        """Slide columns' answers past the others' ({column: lines}); None: line them all up."""
        self.shifts = [0] * len(self.cells) if shifts is None else [
            shifts.get(column, shift) for column, shift in enumerate(self.shifts)]
        self.refresh()

    def set_current(self, column: int) -> None:
        if column != self.current:
            self.current = column
            self._headers.clear()
            self.refresh()

    @property
    def stacked(self) -> bool:
        return self.has_class("-stacked")

    def watch_stacked(self) -> None:  # (called when the class changes, see ComparisonView)
        self._boxes_width = -1
        self.refresh(layout=True)

    # -- drawing -----------------------------------------------------------------------------

    def _columns(self, width: int) -> list[tuple[int, int]]:
        """Each column's x and width: side by side, a cell between columns (and after the last)."""
        n = len(self.cells)
        if self.stacked:
            return [(0, width)] * n
        room = max(0, width - n)
        out, x = [], 0
        for i in range(n):
            w = room // n + (1 if i < room % n else 0)
            out.append((x, w))
            x += w + 1
        return out

    def _body(self, cell: CompareCell, width: int) -> list[Strip]:
        view = cell.view
        return [] if view is None else view.lines_at(max(1, width - 2))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        boxes, top = [], 0
        for cell, (x, w) in zip(self.cells, self._columns(width)):
            height = 2 + len(self._body(cell, w))
            if self.stacked:
                boxes.append((x, top, w, height))
                top += height + 1
            else:
                boxes.append((x, 0, w, height))
        self._boxes = boxes
        self._boxes_width = width
        self._height = max(0, top - 1) if self.stacked else max((b[3] for b in boxes), default=0)
        return self._height + (1 if self.cost else 0)

    def cell_box(self, column: int) -> tuple[int, int, int, int]:
        if self._boxes_width != self.size.width:
            self.get_content_height(self.size, self.size, self.size.width)
        return self._boxes[column]

    def _header(self, cell: CompareCell, width: int) -> list[Strip]:
        lines = self._headers.get(cell.column)
        if lines is None or (lines and lines[0].cell_length != width):
            style = self.get_component_rich_style("compare--current" if cell.column == self.current
                                                  else "compare--header")
            text = text_strips(self.app.console, cell.header.text, max(1, width - 2))
            lines = [Strip.join([Strip.blank(1, style), line.crop_extend(0, max(1, width - 2), style)
                                 .apply_style(style), Strip.blank(1, style)]) for line in (text + [Strip.blank(0)] * 2)[:2]]
            self._headers[cell.column] = lines
        return lines

    def _piece(self, cell: CompareCell, y: int, width: int, shift: int = 0) -> Strip:
        """Line ``y`` of a column (its header, then its answer from line ``shift``), ``width``
        cells wide."""
        if y < 2:
            return self._header(cell, width)[y]
        view = cell.view
        if view is None:
            return Strip.blank(width, self._row_style())
        # (Working a widget's style out again per line was a good part of a frame's cost.)
        if view._style is None:
            view._style = view.rich_style
        style = view._style
        body = view._lines
        if not 0 <= y - 2 + shift < len(body):
            return Strip.blank(width, style)
        line = body[y - 2 + shift]
        key = (id(line), width)
        entry = self._pieces.get(key)
        if entry is None or entry[0] is not line:
            inner = max(1, width - 2)
            drawn = Strip.join([Strip.blank(1, style), line.crop_extend(0, inner, style).apply_style(style),
                                Strip.blank(1, style)])
            entry = self._pieces[key] = (line, drawn)
        return entry[1]

    def _row_style(self) -> Style:
        if self._style is None:
            self._style = self.rich_style
        return self._style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self._row_style()
        if self._boxes_width != width:
            self.get_content_height(self.size, self.size, width)
        if self.cost and y == self._height:
            text = Text(" " + self.cost, style=self.get_component_rich_style("compare--cost"), no_wrap=True,
                        overflow="ellipsis")
            return text_strips(self.app.console, text, max(1, width))[0].crop_extend(0, width, style)
        if self.stacked:
            for cell, (x, top, w, height) in zip(self.cells, self._boxes):
                if top <= y < top + height:
                    return self._piece(cell, y - top, w)
            return Strip.blank(width, style)
        pieces = [self._piece(cell, y, w, shift) if y < height or shift else None
                  for cell, (x, top, w, height), shift in zip(self.cells, self._boxes, self.shifts)]
        key = (width, *map(id, pieces))
        cached = self._joined.get(y)
        if cached is not None and cached[0] == key and all(a is b for a, b in zip(cached[1], pieces)):
            return cached[2]
        gap = Strip.blank(1, style)
        parts = []
        for piece, (x, top, w, height) in zip(pieces, self._boxes):
            parts.append(piece if piece is not None else Strip.blank(w, style))
            parts.append(gap)
        line = Strip.join(parts).crop_extend(0, width, style)
        self._joined[y] = (key, pieces, line)
        if len(self._pieces) > 4096:  # drop drawn forms of lines that are gone
            alive = {id(line) for cell in self.cells if cell.view is not None for line in cell.view._lines}
            self._pieces = {key: value for key, value in self._pieces.items() if key[0] in alive}
        return line

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._pieces.clear()
        self._headers.clear()
        self._joined.clear()
        self._style = None

    def on_click(self, event: Click) -> None:
        for cell in self.cells:
            x, top, w, height = self.cell_box(cell.column)
            if x <= event.x < x + w and top <= event.y < top + height and cell.view is not None:
                if event.y - top >= 2:
                    cell.view.clicked(event.y - top - 2 + (0 if self.stacked else self.shifts[cell.column]))
                return


class ComparisonView(ColumnScroll, Vertical, can_focus=True):
    DEFAULT_CSS = """
    ComparisonView { height: auto; margin: 0 0 1 0; }
    ComparisonView:focus { border-left: thick $accent; }
    ComparisonView > MessageView.-column { display: none; }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "‹ column", id="compare.previous"),
        Binding("right,tab", "move(1)", "column ›", tooltip="Next column (tab too)", id="compare.next"),
        Binding("1", "jump(0)", "Column 1 … 6", tooltip="1 … 6: that column", show=False, id="compare.jump"),
        *(Binding(str(n), f"jump({n - 1})", f"Column {n}", show=False) for n in range(2, 7)),
        Binding("enter", "pick", "Pick", tooltip="Pick this answer: the chat goes on with it and its model",
                id="compare.pick"),
        Binding("escape", "leave", "Back", tooltip="Back to the prompt", id="compare.leave"),
        *COLUMN_SCROLL_BINDINGS,
    ]

    current: reactive[int] = reactive(0)
    alone: reactive[bool] = reactive(False, bindings=True)  # s: the current column scrolls alone

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
        row = CompareRow(self.models)
        cells = row.cells
        row.set_class(self._stacked(self.size.width), "-stacked")
        self.mount(row)
        self.rows.append(cells)
        self.watch_current(self.current)
        return cells

    def _stacked(self, width: int) -> bool:
        return bool(width) and width // max(1, len(self.models)) < MIN_COLUMN

    def on_resize(self, event: Resize) -> None:
        for row in self.query_children(CompareRow):
            stacked = self._stacked(event.size.width)
            if stacked != row.stacked:
                row.set_class(stacked, "-stacked")
                row.watch_stacked()

    def watch_current(self, column: int) -> None:
        for cells in self.rows:
            if cells:
                cells[0].row.set_current(column)

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
