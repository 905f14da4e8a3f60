"""The history's browsing half: the list and the search field, filled a page at a time from a
pager (the chats, or a search's hits), the heading and hint around them, moving and opening.

``HistoryScreen`` (screen.py) builds on it with the keys and what they do to a chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static

from ...widgets.key_bar import KeyBar
from .pagers import ChatPager, Pager, SearchPager
from .rows import HistoryOption, header_text
from .widgets import NEAR_END, HistoryList, SearchInput

if TYPE_CHECKING:
    from ...app import ApertisApp

SEARCH_DELAY = 0.06  # seconds of quiet typing before a search runs


class HistoryBrowser(Screen):
    """The rows, the search, and what is shown around them; no key of its own (see HistoryScreen)."""

    # What decides which keys are active (check_action); the key bar follows their changes.
    # The highlight is reduced to "a row / an archived row": moving it along the list asks
    # every binding again only when one of these flips.
    show_archived = reactive(False, bindings=True)
    renaming: reactive[int | None] = reactive(None, bindings=True)  # the chat whose title is being edited
    has_row = reactive(False, bindings=True)
    row_archived = reactive(False, bindings=True)

    def __init__(self, query: str = "", *, show_archived: bool = False) -> None:
        super().__init__()
        self.set_reactive(HistoryBrowser.show_archived, show_archived)
        self._initial_query = query
        self.pager: Pager | None = None  # set when the screen is composed (or mounted, to search)
        self._timer: Timer | None = None
        self._heading = Static("", id="history-heading", markup=False)
        self._search = SearchInput(query, placeholder="Search titles and messages…", id="history-search",
                                   select_on_focus=False)
        self._columns = Static("", id="history-columns", markup=False)
        self._list = HistoryList(id="history-list")
        self._empty = Static("", id="history-empty", markup=False)
        self._hint = Static("", id="history-hint", markup=False)

    @property
    def tui(self) -> "ApertisApp":
        return self.app  # type: ignore[return-value]

    # -- composition ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        if not self._initial_query.strip():
            # The first page goes in before anything is shown, so that the first frame has the
            # rows and the keys that act on them.
            self._start(self._chat_pager())
        with Horizontal(id="history-top"):
            yield self._heading
            yield self._search
        yield self._columns
        yield self._list
        yield self._empty
        yield self._hint
        yield KeyBar()

    @property
    def search_input(self) -> Input:
        return self._search

    @property
    def option_list(self) -> HistoryList:
        return self._list

    @property
    def rows(self) -> Sequence[HistoryOption]:
        """The rows loaded so far: the list's own options, each carrying its chat."""
        return cast(Sequence[HistoryOption], self._list.options)

    @property
    def searching(self) -> bool:
        return self.pager is not None and self.pager.searching

    @property
    def query_text(self) -> str:
        """The words the hits are for; "" while the chats are listed."""
        return self.pager.query if self.pager is not None else ""

    def on_mount(self) -> None:
        self.search_input.focus()
        if self._initial_query.strip():
            self._search_now()
        else:
            self._show_state()

    def on_resize(self) -> None:
        self._show_columns()

    def rows_shown(self) -> bool:
        """True once the rows (or the empty state) are on screen: for tests and benchmarks."""
        return self.is_mounted and (bool(self.option_list.option_count) or bool(self._empty.display))

    # -- loading -------------------------------------------------------------

    def _chat_pager(self) -> ChatPager:
        return ChatPager(self.tui.store, self.option_list, archived=self.show_archived)

    def _start(self, pager: Pager) -> None:
        """Show what ``pager`` lists, from its first page."""
        self.pager = pager
        self.option_list.clear_options()
        self._load_more()

    def _load_more(self) -> None:
        pager = self.pager
        if pager is None or pager.exhausted:
            return
        lst = self.option_list
        first = not lst.option_count
        lst.add_options(pager.next_page())
        if first and lst.option_count:
            lst.highlighted = 0
        self._follow_highlight()
        if self.is_mounted:
            self._show_state()

    def _search_now(self) -> None:
        self._timer = None
        query = self.search_input.value
        if not query.strip():
            self._start(self._chat_pager())
        else:
            self._start(SearchPager(self.tui.store, self.option_list, query))

    def reload(self) -> None:
        """Show the list or the search again from the store, e.g. after a change elsewhere."""
        if self.searching:
            self._search_now()
        else:
            self._start(self._chat_pager())

    # -- what is shown around the rows ----------------------------------------

    def _show_state(self) -> None:
        pager = self.pager
        if pager is None:
            return
        count = self.option_list.option_count
        self._heading.update(pager.heading(count))
        empty = "" if count else pager.empty()
        self._empty.update(Text(empty))
        self._empty.display = bool(empty)
        self.option_list.display = not empty
        self._hint.update(pager.hint())
        self._show_columns()

    def _show_columns(self) -> None:
        columns = self._columns
        columns.display = not self.searching and bool(self.option_list.option_count)
        if columns.display:
            width = self.option_list.scrollable_content_region.width or self.size.width
            columns.update(header_text(max(1, width)))

    # -- events --------------------------------------------------------------

    @on(Input.Changed, "#history-search")
    def _query_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DELAY, self._search_now)

    @on(Input.Submitted, "#history-search")
    async def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:  # Enter before the search ran: run it, then open its first hit
            self._timer.stop()
            self._search_now()
        await self.action_open()

    @on(OptionList.OptionSelected, "#history-list")
    async def _row_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        await self.action_open()

    @on(OptionList.OptionHighlighted, "#history-list")
    def _row_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index >= self.option_list.option_count - NEAR_END:
            self._load_more()
        self._follow_highlight()

    @on(HistoryList.NearEnd)
    def _near_end(self, event: HistoryList.NearEnd) -> None:
        event.stop()
        self._load_more()

    # -- the highlighted row and the keys ------------------------------------

    @property
    def current(self) -> HistoryOption | None:
        return self.option_list.highlighted_row

    def _follow_highlight(self) -> None:
        """The row keys follow the highlighted row (a reactive only refreshes the key bar when it changes)."""
        row = self.current
        self.has_row = row is not None
        self.row_archived = row is not None and row.archived

    # -- actions -------------------------------------------------------------

    def action_close(self) -> None:
        if self.search_input.value:
            self.search_input.value = ""  # escape clears the search first, then leaves
            self.search_input.focus()
            return
        self.dismiss()

    def action_focus_search(self) -> None:
        self.search_input.focus()

    def action_move(self, step: int) -> None:
        lst = self.option_list
        if self.renaming is None:
            (lst.action_cursor_down if step > 0 else lst.action_cursor_up)()

    def action_move_page(self, step: int) -> None:
        lst = self.option_list
        if self.renaming is None:
            (lst.action_page_down if step > 0 else lst.action_page_up)()

    async def action_open(self) -> None:
        """The chat in a pane (a new tab, or its tab if open), at the hit's message."""
        row = self.current
        if row is None or self.renaming is not None:
            return
        if self.tui.store.get_chat(row.chat_id) is None:
            self._gone(row.chat_id)
            return
        # Leave first, and open once the conversation screen is back: were the tab switched
        # while this screen is still on top, the conversation's returning focus (the prompt of
        # the tab that was in front) would switch it straight back.
        self.dismiss()
        self.app.call_after_refresh(self.tui.open_chat, row.chat_id, row.message_id)

    def action_ignore(self) -> None:
        pass

    def action_show_archived(self, show: bool) -> None:
        self.show_archived = show
        if self.searching:
            self._show_state()
        else:
            self._start(self._chat_pager())
        self.notify("Showing archived chats." if self.show_archived else "Showing chats (not archived).", markup=False)

    # -- rows that left the store ---------------------------------------------

    def _remove_rows(self, chat_id: int) -> None:
        lst = self.option_list
        for index in reversed([i for i, row in enumerate(self.rows) if row.chat_id == chat_id]):
            lst.remove_option_at_index(index)  # keeps the highlight on the same index, clamped
        if lst.option_count < NEAR_END:
            self._load_more()
        self._follow_highlight()

    def _gone(self, chat_id: int) -> None:
        self.notify("That chat is no longer in the history.", severity="warning", markup=False)
        self._remove_rows(chat_id)
        self._show_state()
