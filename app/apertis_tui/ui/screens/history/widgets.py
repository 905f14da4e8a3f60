"""The history screen's own widgets: the list of rows, the search field, the inline title editor."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message as TextualMessage
from textual.widgets import OptionList

from ...textual_internals import clear_option_caches
from ...widgets.text_inputs import TextInput
from .rows import HistoryOption, RowStyles

NEAR_END = 15  # rows before the end at which the next page is loaded


class SearchInput(TextInput):
    """The search field; Enter opens the highlighted row (shown in the key bar as such)."""

    BINDINGS = [Binding("enter", "submit", "Open", id="history.search.open")]


class HistoryList(OptionList):
    """The rows (``HistoryOption``s). Letter keys act on the highlighted row while the list has the focus."""

    BINDINGS = [
        Binding("enter", "select", "Open", id="history.list.open"),
        Binding("r", "screen.rename", "Rename", show=False, id="history.list.rename"),
        Binding("e", "screen.export", "Export", show=False, id="history.list.export"),
        Binding("a", "screen.archive", "Archive", show=False, id="history.list.archive"),
        Binding("d,delete", "screen.delete", "Delete", show=False, id="history.list.delete"),
        Binding("slash", "screen.focus_search", "Search", show=False, id="history.list.search"),
    ]

    COMPONENT_CLASSES = {"history--title", "history--dim", "history--match", "history--tag"}
    row_style = RowStyles()  # the component classes' styles, taken when mounted and on theme changes

    class NearEnd(TextualMessage):
        """The user scrolled close to the last loaded row."""

    @property
    def highlighted_row(self) -> HistoryOption | None:
        option = self.highlighted_option
        return option if isinstance(option, HistoryOption) else None

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new > old and new >= self.max_scroll_y - NEAR_END:
            self.post_message(self.NearEnd())

    def on_mount(self) -> None:
        self._take_row_style()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self._take_row_style()

    def _take_row_style(self) -> None:
        style = RowStyles(
            title=self.get_component_rich_style("history--title", partial=True),
            dim=self.get_component_rich_style("history--dim", partial=True),
            match=self.get_component_rich_style("history--match", partial=True),
            tag=self.get_component_rich_style("history--tag", partial=True),
        )
        if style != self.row_style:
            self.row_style = style
            clear_option_caches(self)  # the rows' cached renders carry the old colours


class RenameInput(TextInput):
    """The inline editor laid over the row being renamed."""

    BINDINGS = [
        Binding("enter", "submit", "Save title", id="history.rename.save"),
        Binding("escape", "cancel", "Cancel rename", id="history.rename.cancel"),
    ]

    class Cancelled(TextualMessage):
        pass

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
