"""Scrolling a comparison's columns together, or one at a time.

Focused (ctrl+up), a comparison scrolls with ↑ ↓ pageup pagedown home end: all its columns
together (the conversation scrolls), or, after ``s``, the current column alone: its answer
slides past the others', which stay where they are, so two answers of different lengths can
be read side by side at the parts that match. ``s`` again lines the columns up and scrolls them
together. Stacked columns (a narrow terminal) are one under the other: they scroll together.

A column scrolled alone is drawn by its row (``CompareRow.shifts``: how many lines of its
answer have slid past the others'); here is only which keys slide it, and how far it may go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.geometry import Region

if TYPE_CHECKING:
    from .comparison_view import CompareRow, ComparisonView

BINDINGS = [
    Binding("s", "scroll_alone(True)", "Scroll one",
            tooltip="Scroll the current column alone (↑ ↓ pageup pagedown home end)", id="compare.scroll_alone"),
    Binding("s", "scroll_alone(False)", "Scroll all", tooltip="Scroll all columns together again, lined up",
            id="compare.scroll_together"),
    Binding("up", "scroll_lines(-1)", "Scroll up", tooltip="A line up (all columns, or the current one alone)",
            show=False, id="compare.line_up"),
    Binding("down", "scroll_lines(1)", "Scroll down", tooltip="A line down (all columns, or the current one alone)",
            show=False, id="compare.line_down"),
    Binding("pageup", "scroll_pages(-1)", "Page up", tooltip="A page up (all columns, or the current one alone)",
            show=False, id="compare.page_up"),
    Binding("pagedown", "scroll_pages(1)", "Page down",
            tooltip="A page down (all columns, or the current one alone)", show=False, id="compare.page_down"),
    Binding("home", "scroll_edge(0)", "Top", tooltip="The comparison's top (or the current column's start)",
            show=False, id="compare.top"),
    Binding("end", "scroll_edge(1)", "End", tooltip="The conversation's end (or the current column's)",
            show=False, id="compare.end"),
]


class ColumnScroll:
    """Mixed into ``ComparisonView`` (which has ``alone``, ``current`` and ``rows``)."""

    def check_action(self: "ComparisonView", action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "scroll_alone":
            return parameters[0] != self.alone  # the key bar shows what s would do
        return True

    def action_scroll_alone(self: "ComparisonView", alone: bool) -> None:
        if alone and (row := self._row_in_view()) is not None and row.stacked:
            self.app.notify("The columns are one under the other (the terminal is narrow): they scroll "
                            "with the conversation.")
            return
        self.alone = alone
        if not alone:  # lined up again
            for cells in self.rows:
                if cells and any(cells[0].row.shifts):
                    cells[0].row.set_shifts(None)

    def action_scroll_lines(self: "ComparisonView", lines: int) -> None:
        if self.alone:
            self._slide(lambda shift, low, high: shift + lines)
        else:
            self._scroller.scroll_relative(y=lines, animate=False)

    def action_scroll_pages(self: "ComparisonView", pages: int) -> None:
        page = max(1, self._window().height - 2)
        if self.alone:
            self._slide(lambda shift, low, high: shift + pages * page)
        else:
            self._scroller.scroll_relative(y=pages * page, animate=False)

    def action_scroll_edge(self: "ComparisonView", end: int) -> None:
        if self.alone:
            self._slide(lambda shift, low, high: high if end else low)
        elif end:
            self._scroller.jump_to_end()
        else:
            self._scroller.scroll_to_widget(self, animate=False, top=True)

    # -- sliding the current column ---------------------------------------------------------

    @property
    def _scroller(self: "ComparisonView"):
        return self.parent  # the message list

    def _window(self: "ComparisonView") -> Region:
        """Where the conversation is shown on the screen."""
        return self._scroller.content_region

    def _row_in_view(self: "ComparisonView") -> "CompareRow | None":
        """The turn that shows the most lines on the screen (the last one if none does)."""
        rows = [cells[0].row for cells in self.rows if cells]
        window = self._window()
        return max(reversed(rows), key=lambda row: row.region.intersection(window).height, default=None)

    def _slide(self: "ComparisonView", to) -> None:
        """Move the current column of the turn in view to ``to(shift, lowest, highest)``: its
        answer's first line may come down to the top of what is shown, its last up to the bottom."""
        row = self._row_in_view()
        if row is None or row.stacked:
            return
        column = min(self.current, len(row.cells) - 1)
        window, region = self._window(), row.region
        top = max(0, window.y - region.y)  # the row's lines on the screen: [top, bottom)
        bottom = min(region.height, window.bottom - region.y)
        if bottom <= top:
            return
        lines = row.cell_box(column)[3] - 2  # the answer's lines (below its two header lines)
        low = min(0, 2 - max(top, 2))
        high = max(0, lines + 2 - bottom)
        shift = max(low, min(high, to(row.shifts[column], low, high)))
        if shift != row.shifts[column]:
            self._scroller.release_anchor()  # reading: the conversation stops following new text
            row.set_shifts({column: shift})
