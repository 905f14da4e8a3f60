"""The model picker's list: one line per model, drawn only when it is on screen.

Why not OptionList: it measures every option's height and renders through several caches per
option on each ``set_options``, which made ~600 short-lived cyclic objects per keystroke over
546 models; the garbage collector's full passes then stalled a keystroke for 50-150 ms now and
then. Here a keystroke only swaps the list of rows; a paint builds the ~40 visible lines.
Model ids are data: each line is a ``Content`` with spans, never markup.
"""

from __future__ import annotations

from textual import events
from textual.content import Content, Span
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.models import EXACT, TYPED, Ranked, is_free
from ..textual_internals import update_scroll_bars

OWNER_WIDTH = 16
TICK_WIDTH = 4  # "✓ 1 ": the compare picker's column (none in the single picker)


class ModelRows(ScrollView, can_focus=False):
    """Rows of ``Ranked`` models with a highlighted one; rules between favourites, recents and
    the rest. The filter keeps the focus; the screen moves the highlight."""

    COMPONENT_CLASSES = {
        "model-rows--highlight",
        "model-rows--match",
        "model-rows--owner",
        "model-rows--star",
        "model-rows--tick",
        "model-rows--tag",
        "model-rows--free",
        "model-rows--typed",
        "model-rows--rule",
    }

    DEFAULT_CSS = """
    ModelRows { height: 1fr; overflow-x: hidden; }
    """

    class Clicked(Message):
        """A row was clicked: ``index`` into ``rows``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[Ranked] = []
        self.current = ""
        self.highlighted: int | None = None
        self._lines: list[int | None] = []  # row index per line; None draws a rule
        self._line_of: dict[int, int] = {}
        self._strips: dict[int, Strip] = {}
        self._id_width = 0
        self.ticks: dict[str, int] | None = None  # id -> its tick number (1…); None: no tick column

    # -- content -------------------------------------------------------------

    def show(self, rows: list[Ranked], *, current: str, highlight: int | None = 0) -> None:
        """Replace the rows; ``highlight`` is an index into ``rows``."""
        self.rows, self.current = rows, current
        lines: list[int | None] = []
        for index, row in enumerate(rows):
            if index and row.group != rows[index - 1].group and rows[index - 1].group != EXACT:
                lines.append(None)
            lines.append(index)
        self._lines = lines
        self._line_of = {index: line for line, index in enumerate(lines) if index is not None}
        self._id_width = max((len(row.id) for row in rows), default=0) + 2
        self._strips.clear()
        self._set_scroll_size(Size(self.scrollable_content_region.width, len(lines)))
        self.highlighted = None
        self.scroll_to(y=0, animate=False, immediate=True)
        self.highlight(highlight if rows else None, center=True)
        self.refresh()

    def _set_scroll_size(self, size: Size) -> None:
        """Only this list's scroll range changes with the filter: set it and update the scroll
        bars, without the layout of the whole screen that setting ``virtual_size`` asks for
        (~4 ms of every keystroke in the picker). Before the first layout there is nothing to
        update; that layout sets everything."""
        if size == self.virtual_size:
            return
        self.set_reactive(ScrollView.virtual_size, size)
        if self.container_size:
            update_scroll_bars(self, size)

    def highlight(self, index: int | None, *, center: bool = False) -> None:
        if index is not None:
            index = min(max(index, 0), len(self.rows) - 1) if self.rows else None
        for old in (self.highlighted, index):
            if old is not None:
                self._strips.pop(self._line_of.get(old, -1), None)
        self.highlighted = index
        self._scroll_to_highlight(center)
        self.refresh()

    def set_ticks(self, ticked: list[str]) -> None:
        """Mark these ids "✓ 1", "✓ 2", … in this order (rows that are not shown keep theirs)."""
        self.ticks = {model_id: number for number, model_id in enumerate(ticked, start=1)}
        self._strips.clear()
        self.refresh()

    def _scroll_to_highlight(self, center: bool = False) -> None:
        if self.highlighted is not None:
            line = self._line_of[self.highlighted]
            self.scroll_to_region(Region(0, line, 1, 1), animate=False, force=True, immediate=True, center=center)

    def move(self, step: int) -> None:
        """Move the highlight ``step`` rows (a page is the visible height)."""
        if not self.rows:
            return
        self.highlight((self.highlighted or 0) + step if self.highlighted is not None else 0)

    @property
    def page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    # -- drawing -------------------------------------------------------------

    def _style(self, name: str):
        # Partial: only what the component sets, so a span keeps the row's (highlight) background.
        return self.get_visual_style(name, partial=True)

    def _row_content(self, row: Ranked, width: int) -> Content:
        if self.ticks is None:
            return self._row_text(row, width)
        number = self.ticks.get(row.id)
        mark = f"✓ {number}" if number else ""
        spans = [Span(0, len(mark), self._style("model-rows--tick"))] if mark else []
        column = Content(f"{mark:<{TICK_WIDTH}}", spans)
        return column + self._row_text(row, width - TICK_WIDTH)

    def _row_text(self, row: Ranked, width: int) -> Content:
        style = self._style
        if row.group == TYPED:
            text = f"  use '{row.id}' as typed"
            return Content(text, [Span(2, len(text), style("model-rows--typed")),
                                  Span(7, 7 + len(row.id), style("model-rows--match"))])
        id_width = max(12, min(self._id_width, width - OWNER_WIDTH - 10))
        name = row.id if len(row.id) < id_width else row.id[: id_width - 2] + "…"
        shown = len(name) if name == row.id else len(name) - 1
        spans = [Span(0, 1, style("model-rows--star"))] if row.favourite else []
        match = style("model-rows--match")
        spans.extend(Span(2 + o, 3 + o, match) for o in row.offsets if o < shown)
        text = f"{'★' if row.favourite else ' '} {name:<{id_width}}"
        owner = row.owner[:OWNER_WIDTH]
        spans.append(Span(len(text), len(text) + len(owner), style("model-rows--owner")))
        text += f"{owner:<{OWNER_WIDTH}}"
        for tag, on, component in (("free", is_free(row.id), "model-rows--free"),
                                   ("current", row.id == self.current, "model-rows--tag"),
                                   ("recent", row.recent, "model-rows--tag")):
            if on:
                spans.append(Span(len(text) + 1, len(text) + 1 + len(tag), style(component)))
                text += f" {tag}"
        return Content(text, spans)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = self.scroll_offset.y + y
        base = self.visual_style
        if not 0 <= line < len(self._lines):
            return Strip.blank(width, base.rich_style)
        strip = self._strips.get(line)
        if strip is None or strip.cell_length != width:
            index = self._lines[line]
            if index is None:
                rule = self._style("model-rows--rule")
                strip = Strip(Content("─" * width).render_segments(base + rule), width)
            else:
                if index == self.highlighted:
                    base = base + self.get_visual_style("model-rows--highlight")
                content = self._row_content(self.rows[index], width)
                strip = Strip(content.render_segments(base)).crop_extend(0, width, base.rich_style)
            self._strips[line] = strip
        return strip

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._lines))
        self.call_after_refresh(self._scroll_to_highlight, True)  # the first layout comes after show()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = self.scroll_offset.y + offset.y
        if 0 <= line < len(self._lines) and (index := self._lines[line]) is not None:
            self.highlight(index)
            self.post_message(self.Clicked(index))
