"""The open chats' labels on one line above the chat in front; a click brings a chat forward.

One widget drawing one line (Textual's TabbedContent costs a widget per tab and ~15 ms at
start-up). When the labels do not fit, the line shows a window of them that always holds the
chat in front, and ``‹N`` / ``N›`` at its ends say how many are hidden on each side (a click on
one brings the nearest hidden chat forward). The window moves only as far as it must, so
cycling through the chats scrolls it like a strip instead of re-centring it at every step.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.content import Content
from textual.message import Message
from textual.widget import Widget


class ChatTabs(Widget, can_focus=False):
    COMPONENT_CLASSES = {"chat-tabs--tab", "chat-tabs--active", "chat-tabs--more"}
    DEFAULT_CSS = """
    ChatTabs { height: 1; }
    """
    ALLOW_SELECT = False

    class Clicked(Message):
        """A label (or a ``‹N`` / ``N›`` marker) was clicked: bring ``tab_id`` forward."""

        def __init__(self, tab_id: str) -> None:
            super().__init__()
            self.tab_id = tab_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._tabs: list[tuple[str, Content]] = []
        self._active = ""
        self._first = 0  # the first label shown when they do not all fit
        self._targets: list[tuple[int, int, str]] = []  # (start, end, tab id) of what was drawn

    @property
    def tabs(self) -> list[tuple[str, Content]]:
        """(id, label) of every tab, in order."""
        return list(self._tabs)

    @property
    def active(self) -> str:
        return self._active

    def set_tabs(self, tabs: Sequence[tuple[str, Content]], active: str) -> None:
        tabs = list(tabs)
        if tabs != self._tabs or active != self._active:
            self._tabs, self._active = tabs, active
            self.refresh()

    # -- drawing -------------------------------------------------------------

    def _window(self, widths: list[int], active: int, space: int) -> tuple[int, int]:
        """The labels [first, end) to show: they hold ``active`` and fit ``space`` with their markers."""
        count = len(widths)

        def needed(first: int, end: int) -> int:
            left = len(f"‹{first}") if first else 0
            right = len(f"{count - end}›") if end < count else 0
            return sum(widths[first:end]) + left + right

        def end_from(first: int) -> int:
            end = first + 1
            while end < count and needed(first, end + 1) <= space:
                end += 1
            return end

        first = min(self._first, active)
        while first < active and end_from(first) <= active:
            first += 1
        end = end_from(first)
        while first > 0 and needed(first - 1, end) <= space:
            first -= 1
            end = end_from(first)
        return first, end

    def render(self) -> Content:
        self._targets = []
        tabs = self._tabs
        if not tabs:
            return Content("")
        space = self.content_size.width
        ids = [tab_id for tab_id, _ in tabs]
        active = ids.index(self._active) if self._active in ids else 0
        cells = [label.pad(1, 1) for _, label in tabs]
        widths = [cell.cell_length for cell in cells]
        if sum(widths) <= space:
            first, end = 0, len(tabs)
        else:
            first, end = self._window(widths, active, space)
        self._first = first
        left = Content(f"‹{first}") if first else Content("")
        right = Content(f"{len(tabs) - end}›") if end < len(tabs) else Content("")
        if left.cell_length + right.cell_length + sum(widths[first:end]) > space:
            # Not even the chat in front fits beside the markers: it alone, cut short.
            left = right = Content("")
            cells[active] = tabs[active][1].truncate(max(space - 2, 1), ellipsis=True).pad(1, 1)
            first, end = active, active + 1
        tab_style = self.get_visual_style("chat-tabs--tab")
        active_style = self.get_visual_style("chat-tabs--active")
        more_style = self.get_visual_style("chat-tabs--more")
        parts: list[Content] = []
        x = 0
        if left:
            parts.append(left.stylize_before(more_style))
            self._targets.append((x, x + left.cell_length, ids[first - 1]))
            x += left.cell_length
        for index in range(first, end):
            cell = cells[index]
            parts.append(cell.stylize_before(active_style if index == active else tab_style))
            self._targets.append((x, x + cell.cell_length, ids[index]))
            x += cell.cell_length
        if right:
            parts.append(right.stylize_before(more_style))
            self._targets.append((x, x + right.cell_length, ids[end]))
        return Content.assemble(*parts)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for start, end, tab_id in self._targets:
            if start <= offset.x < end:
                event.stop()
                self.post_message(self.Clicked(tab_id))
                return
