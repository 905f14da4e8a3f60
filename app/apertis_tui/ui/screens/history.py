"""The history: every chat, newest first, searchable; open, rename, archive, export, delete.

The list loads a page at a time as the highlight or the scroll nears its end (keyset paging
in the store), so a history of 100,000 chats opens as fast as one of ten. Typing searches
titles and messages (FTS5, as prefixes, all words); a hit opens the chat at that message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.styles import RulesMap
from textual.message import Message as TextualMessage
from textual.screen import Screen
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.timer import Timer
from textual.visual import RenderOptions, Visual
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..paths import stylesheets
from ..widgets.text_inputs import TextInput
from ...core.store import ChatSummary, StoreError
from ...core.text import one_line, snippet_spans
from ...core.timefmt import relative_time, utc_now
from ...core.types import Message, SearchHit
from ..widgets.chat_pane import ChatPane
from ..widgets.key_bar import KeyBar
from .confirm import ConfirmDialog
from .history_dialogs import start_export

if TYPE_CHECKING:
    from ..app import ApertisApp

PAGE = 100  # chats per page of the list
SEARCH_PAGE = 50  # hits per page of a search
NEAR_END = 15  # rows before the end at which the next page is loaded
SEARCH_DELAY = 0.06  # seconds of quiet typing before a search runs


# ---------------------------------------------------------------------------
# Formatting (pure functions; tested directly)


def snippet_text(snippet: str, match_style: Style | str) -> Text:
    """The store's snippet as one line of Text: the marked words styled, nothing parsed as markup."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for part, match in snippet_spans(snippet):
        text.append(part, style=match_style if match else "")
    return text


def _columns(width: int) -> tuple[int, int, int, int]:
    """Widths of title, models, last activity and message count for a row ``width`` wide."""
    when, count = 13, 6
    models = 30 if width >= 110 else 22 if width >= 80 else 0
    title = max(8, width - models - when - count - (3 if models else 2))
    return title, models, when, count


def _cell(text: str | Text, width: int, style: Style | str = "", justify: str = "left") -> Text:
    cell = text if isinstance(text, Text) else Text(text, style=style)
    cell.truncate(width, overflow="ellipsis", pad=False)
    pad = " " * (width - cell.cell_len)
    return Text.assemble(pad, cell) if justify == "right" else Text.assemble(cell, pad)


@dataclass(frozen=True)
class RowStyles:
    title: Style | str = "bold"
    dim: Style | str = "dim"
    match: Style | str = "bold reverse"
    tag: Style | str = "italic"


class _Row(Visual):
    """An OptionList row of a fixed number of lines, each a Text laid out for the width.

    A Visual of its own rather than a Rich renderable: the OptionList asks every option's
    height whenever options are added or the width changes, and a renderable must be
    rendered to answer; the Text lines also go to strips without Rich's console pipeline.
    """

    LINES = 1

    def __init__(self, widget: "HistoryList") -> None:
        self.list = widget

    @property
    def styles(self) -> "RowStyles":
        return self.list.row_style  # read at drawing time: follows the theme

    def lines(self, width: int) -> list[Text]:
        raise NotImplementedError

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.LINES

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def render_strips(self, width: int, height: int | None, style: VisualStyle,
                      options: RenderOptions) -> list[Strip]:
        console = self.list.app.console
        base = style.rich_style
        return [Strip(list(text.render(console)), text.cell_len).apply_style(base).crop_extend(0, width, base)
                for text in self.lines(width)[:height]]


class ChatRow(_Row):
    """One chat on one line: title, models, last activity, message count."""

    def __init__(self, widget: "HistoryList", summary: ChatSummary, now: datetime | None = None) -> None:
        super().__init__(widget)
        self.summary = summary
        self.now = now

    def lines(self, width: int) -> list[Text]:
        chat = self.summary.chat
        title_w, models_w, when_w, count_w = _columns(width)
        title = Text(one_line(chat.title, 300) or "Untitled chat", style=self.styles.title)
        if chat.archived:
            title.append("  archived", style=self.styles.tag)
        parts = [_cell(title, title_w)]
        if models_w:
            models = ", ".join(one_line(m, 60) for m in self.summary.models) or one_line(chat.model, 60)
            parts += [Text(" "), _cell(models, models_w, self.styles.dim)]
        parts += [Text(" "), _cell(relative_time(chat.updated_at, self.now), when_w, self.styles.dim, "right"),
                  _cell(str(self.summary.message_count), count_w, "", "right")]
        return [Text.assemble(*parts, no_wrap=True, overflow="crop")]


def header_text(width: int) -> Text:
    title_w, models_w, when_w, count_w = _columns(width)
    parts = [_cell("Title", title_w)]
    if models_w:
        parts += [Text(" "), _cell("Models", models_w)]
    parts += [Text(" "), _cell("Last activity", when_w, justify="right"), _cell("Msgs", count_w, justify="right")]
    return Text.assemble(*parts, no_wrap=True, overflow="crop")


class HitRow(_Row):
    """One search hit on two lines: the chat (title, models, when), then who said it and the
    snippet with the match highlighted."""

    LINES = 2

    def __init__(self, widget: "HistoryList", hit: SearchHit, summary: ChatSummary | None, message: Message | None,
                 now: datetime | None = None) -> None:
        super().__init__(widget)
        self.hit = hit
        self.summary = summary
        self.message = message
        self.now = now

    def lines(self, width: int) -> list[Text]:
        hit, summary, message = self.hit, self.summary, self.message
        title = Text(one_line(hit.chat_title, 300) or "Untitled chat", style=self.styles.title)
        if summary is not None and summary.chat.archived:
            title.append("  archived", style=self.styles.tag)
        when = relative_time(message.created_at if message else hit.updated_at, self.now)
        models = ", ".join(summary.models) if summary is not None else ""
        right = Text(f"{one_line(models, 40)}  {when}" if models and width >= 80 else when, style=self.styles.dim)
        right.truncate(max(0, width // 2), overflow="ellipsis")
        head = Text.assemble(_cell(title, max(1, width - right.cell_len - 1)), " ", right, no_wrap=True,
                             overflow="crop")
        if message is None:
            who = "title"
        elif message.role == "user":
            who = "You"
        else:
            who = one_line(message.model or message.role, 40)
        line = Text.assemble(("  ", ""), (who, self.styles.dim), (": ", self.styles.dim),
                             snippet_text(hit.snippet, self.styles.match), no_wrap=True, overflow="ellipsis")
        line.truncate(width, overflow="ellipsis")
        return [head, line]


# ---------------------------------------------------------------------------
# Widgets


@dataclass
class Row:
    chat_id: int
    title: str
    archived: bool
    message_id: int | None = None  # the search hit's message
    summary: ChatSummary | None = None
    hit: SearchHit | None = None
    message: Message | None = None


class SearchInput(TextInput):
    """The search field; Enter opens the highlighted row (shown in the key bar as such)."""

    BINDINGS = [Binding("enter", "submit", "Open", id="history.search.open")]


class HistoryList(OptionList):
    """The rows. Letter keys act on the highlighted row while the list has the focus."""

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
            self._clear_caches()  # the rows' cached renders carry the old colours


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


class HistoryScreen(Screen):
    """Every chat, newest first; type to search."""

    CSS_PATH = stylesheets("history")

    BINDINGS = [
        Binding("escape", "close", "Back", id="history.close"),
        Binding("enter", "open", "Open", id="history.open"),
        Binding("f2", "rename", "Rename", id="history.rename"),
        Binding("f4", "export", "Export", id="history.export"),
        Binding("f5", "archive", "Archive", id="history.archive"),
        Binding("f5", "restore", "Restore", id="history.restore"),
        Binding("f8", "delete", "Delete", id="history.delete"),
        Binding("f7", "show_archived(True)", "Show archived", id="history.show_archived"),
        Binding("f7", "show_archived(False)", "Hide archived", id="history.hide_archived"),
        # Last: the app's keys for the chat in front mean nothing here, and f2 without a row
        # must not fall through to the app's f2.
        Binding("f2,f6,f9,ctrl+o", "ignore", show=False, id="history.ignore"),
        # From the search field, the arrows move through the list as in a palette.
        Binding("down", "move(1)", show=False, id="history.down"),
        Binding("up", "move(-1)", show=False, id="history.up"),
        Binding("pagedown", "move_page(1)", show=False, id="history.page_down"),
        Binding("pageup", "move_page(-1)", show=False, id="history.page_up"),
    ]

    def __init__(self, query: str = "", *, show_archived: bool = False) -> None:
        super().__init__()
        self.show_archived = show_archived
        self._initial_query = query
        self.rows: list[Row] = []
        self.mode = "list"  # or "search"
        self.query_text = ""
        self._after: tuple[str, int] | None = None  # where the next page of the list starts
        self._exhausted = False
        self._search_limit = SEARCH_PAGE
        self._timer: Timer | None = None
        self._renaming: int | None = None  # chat id being renamed
        self._total = 0
        self._keys_state: tuple[bool, ...] | None = None
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
            self._load_list(reset=True)
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

    def _load_list(self, *, reset: bool) -> None:
        store = self.tui.store
        if reset:
            self.mode, self.query_text = "list", ""
            self.rows, self._after, self._exhausted = [], None, False
            self._total = store.count_chats(self.show_archived)
            self.option_list.clear_options()
        if self._exhausted:
            return
        page = store.chat_page(archived=self.show_archived, after=self._after, limit=PAGE)
        if len(page) < PAGE:
            self._exhausted = True
        if page:
            last = page[-1].chat
            self._after = (last.updated_at, last.id)
        now = utc_now()
        self._add_rows([Row(s.chat.id, s.chat.title, s.chat.archived, summary=s) for s in page],
                       [ChatRow(self.option_list, s, now) for s in page])
        if self.is_mounted:
            self._show_state()

    def _search_now(self) -> None:
        self._timer = None
        query = self.search_input.value
        if not query.strip():
            self._load_list(reset=True)
            return
        self.mode, self.query_text = "search", query
        self.rows, self._search_limit, self._exhausted = [], SEARCH_PAGE, False
        self.option_list.clear_options()
        self._load_hits()

    def _load_hits(self) -> None:
        store = self.tui.store
        hits = store.search(self.query_text, limit=self._search_limit)
        if len(hits) < self._search_limit:
            self._exhausted = True
        seen = {(r.chat_id, r.message_id) for r in self.rows}
        new = [h for h in hits if (h.chat_id, h.message_id) not in seen]
        summaries = store.chat_summaries([h.chat_id for h in new])
        messages = store.get_messages([h.message_id for h in new if h.message_id is not None])
        now = utc_now()
        rows, renders = [], []
        for hit in new:
            summary = summaries.get(hit.chat_id)
            message = messages.get(hit.message_id) if hit.message_id is not None else None
            rows.append(Row(hit.chat_id, hit.chat_title, bool(summary and summary.chat.archived),
                            message_id=hit.message_id, summary=summary, hit=hit, message=message))
            renders.append(HitRow(self.option_list, hit, summary, message, now))
        self._add_rows(rows, renders)
        self._show_state()

    def _add_rows(self, rows: list[Row], renders: list[_Row]) -> None:
        first = not self.rows
        self.rows.extend(rows)
        self.option_list.add_options([Option(r) for r in renders])
        if first and self.rows:
            self.option_list.highlighted = 0
        self._refresh_keys()

    def _load_more(self) -> None:
        if self._exhausted:
            return
        if self.mode == "list":
            self._load_list(reset=False)
        else:
            self._search_limit += SEARCH_PAGE
            self._load_hits()

    def reload(self) -> None:
        """Show the list or the search again from the store, e.g. after a change elsewhere."""
        if self.mode == "search":
            self._search_now()
        else:
            self._load_list(reset=True)

    # -- what is shown around the rows ----------------------------------------

    def _show_state(self) -> None:
        heading = Text("Archived chats" if self.show_archived and self.mode == "list" else "History", style="bold")
        hint = Text(style="dim")
        empty = ""
        if self.mode == "list":
            heading.append(f" · {self._total:,} {'chat' if self._total == 1 else 'chats'}", style="dim")
            if not self.rows:
                empty = ("No archived chats. f7 shows the others." if self.show_archived else
                         "No chats yet: what you send in a conversation is kept here.")
            hint.append("Type to search · enter opens · ")
            hint.append("f7 hides archived chats" if self.show_archived else "f7 shows archived chats")
        else:
            count = len(self.rows)
            more = "" if self._exhausted else "+"
            heading.append(f" · {count}{more} {'match' if count == 1 else 'matches'}, newest first", style="dim")
            if not self.rows:
                if not re.search(r"[^\W_]", self.query_text):
                    empty = ("Type letters or digits: search ignores punctuation such as \" * - : ( ) "
                             "and finds messages containing every word.")
                else:
                    empty = f"No title or message contains {self._quoted()}."
            hint.append("Every word must appear; words match as prefixes (wal finds WAL and walrus). "
                        "escape or ctrl+u clears.")
        self._heading.update(heading)
        empty_widget = self._empty
        empty_widget.update(Text(empty))
        empty_widget.display = bool(empty)
        self.option_list.display = not empty
        self._hint.update(hint)
        self._show_columns()

    def _quoted(self) -> str:
        return f"“{one_line(self.query_text, 60)}”"

    def _show_columns(self) -> None:
        columns = self._columns
        columns.display = self.mode == "list" and bool(self.rows)
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
        if event.option_index >= len(self.rows) - NEAR_END:
            self._load_more()
        self._refresh_keys()

    @on(HistoryList.NearEnd)
    def _near_end(self, event: HistoryList.NearEnd) -> None:
        event.stop()
        self._load_more()

    # -- the highlighted row -------------------------------------------------

    @property
    def current(self) -> Row | None:
        index = self.option_list.highlighted
        if index is None or not 0 <= index < len(self.rows):
            return None
        return self.rows[index]

    def _refresh_keys(self) -> None:
        """Refresh the key bar only when what it shows changes (each refresh asks every
        binding's check_action again)."""
        row = self.current
        state = (row is not None, row is not None and row.archived, self.show_archived, self._renaming is not None)
        if state != self._keys_state:
            self._keys_state = state
            if self.is_mounted:  # before that, the key bar is yet to be drawn with these keys
                self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_archived":
            # Two bindings share f7; only the one whose label fits is active (and shown).
            return parameters[0] != self.show_archived
        row_actions = {"open", "rename", "export", "delete", "archive", "restore"}
        if action in row_actions and self._renaming is not None:
            return None
        if action == "archive":
            row = self.current
            return False if row is not None and row.archived else (True if row else None)
        if action == "restore":
            row = self.current
            return True if row is not None and row.archived else False
        if action in row_actions:
            return True if self.current is not None else None
        return True

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
        if self._renaming is not None:
            return
        if step > 0:
            self.option_list.action_cursor_down()
        else:
            self.option_list.action_cursor_up()

    def action_move_page(self, step: int) -> None:
        if self._renaming is not None:
            return
        if step > 0:
            self.option_list.action_page_down()
        else:
            self.option_list.action_page_up()

    async def action_open(self) -> None:
        """The chat in a pane (a new tab, or its tab if open), at the hit's message."""
        row = self.current
        if row is None or self._renaming is not None:
            return
        if self.tui.store.get_chat(row.chat_id) is None:
            self._gone(row)
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
        if self.mode == "list":
            self._load_list(reset=True)
        else:
            self._show_state()
        self.notify("Showing archived chats." if self.show_archived else "Showing chats (not archived).", markup=False)

    def action_archive(self) -> None:
        self._set_archived(True)

    def action_restore(self) -> None:
        self._set_archived(False)

    def _set_archived(self, archived: bool) -> None:
        row = self.current
        if row is None:
            return
        try:
            chat = self.tui.store.update_chat(row.chat_id, archived=archived)
        except StoreError as error:
            self._store_failed(error)
            return
        if chat is None:
            self._gone(row)
            return
        name = f"“{one_line(chat.title, 40) or 'Untitled chat'}”"
        if self.mode == "list":
            # It now belongs to the other list.
            self._remove_rows(lambda r: r.chat_id == row.chat_id)
            self._total = max(0, self._total - 1)
            self._show_state()
        else:
            self._update_chat_rows(row.chat_id)
        if archived:
            self.notify(f"Archived {name}. f7 shows archived chats; f5 there restores it.", markup=False)
        else:
            self.notify(f"Restored {name}.", markup=False)

    def action_delete(self) -> None:
        row = self.current
        if row is None:
            return
        chat = self.tui.store.get_chat(row.chat_id)
        if chat is None:
            self._gone(row)
            return
        summary = self.tui.store.chat_summaries([chat.id]).get(chat.id)
        count = summary.message_count if summary else 0
        name = one_line(chat.title, 60) or "Untitled chat"

        async def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            await self.tui.close_chat(chat.id)  # its tab, if open; an answer arriving there is stopped
            try:
                self.tui.store.delete_chat(chat.id)
            except StoreError as error:
                self._store_failed(error)
                return
            self._remove_rows(lambda r: r.chat_id == chat.id)
            if self.mode == "list":
                self._total = max(0, self._total - 1)
            self._show_state()
            self.notify(f"Deleted “{name}”.", markup=False)

        self.app.push_screen(
            ConfirmDialog(f"Delete “{name}”?\n\nIts {count} {'message is' if count == 1 else 'messages are'} "
                          "removed from the history for good. To keep it out of the way instead, archive it (f5).",
                          yes="Delete", danger=True),
            confirmed,
        )

    def action_export(self) -> None:
        row = self.current
        if row is None:
            return
        chat = self.tui.store.get_chat(row.chat_id)
        if chat is None:
            self._gone(row)
            return
        start_export(self.tui, chat)

    # -- rename --------------------------------------------------------------

    def action_rename(self) -> None:
        row, index = self.current, self.option_list.highlighted
        if row is None or index is None or self._renaming is not None:
            return
        chat = self.tui.store.get_chat(row.chat_id)
        if chat is None:
            self._gone(row)
            return
        self._renaming = chat.id
        editor = RenameInput(chat.title, id="history-rename", select_on_focus=True)
        lst = self.option_list
        region = lst.scrollable_content_region
        line = lst._index_to_line.get(index, index)  # OptionList keeps where each option starts
        y = region.y + line - round(lst.scroll_y)
        editor.styles.offset = (region.x, max(region.y, min(y, region.bottom - 1)))
        editor.styles.width = region.width
        self.mount(editor)
        editor.focus()
        self._refresh_keys()

    @on(Input.Submitted, "#history-rename")
    def _rename_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        title = one_line(event.value, 200)
        if not title:
            self.notify("A title needs at least one letter; escape keeps the old one.", severity="warning",
                        markup=False)
            return
        chat_id = self._renaming
        self._end_rename()
        if chat_id is None:
            return
        try:
            chat = self.tui.store.rename_chat(chat_id, title)
        except StoreError as error:
            self._store_failed(error)
            return
        if chat is None:
            self.notify("That chat is no longer in the history.", severity="warning", markup=False)
            self.reload()
            return
        self._update_chat_rows(chat_id)
        for screen in self.app.screen_stack:  # an open pane (and its tab) shows the new title too
            for pane in screen.query(ChatPane):
                if pane.chat is not None and pane.chat.id == chat_id:
                    pane.chat = chat
                    pane.refresh_title()
        self.notify(f"Renamed to “{one_line(title, 60)}”.", markup=False)

    @on(RenameInput.Cancelled)
    def _rename_cancelled(self, event: RenameInput.Cancelled) -> None:
        event.stop()
        self._end_rename()

    @on(Input.Blurred, "#history-rename")
    def _rename_blurred(self, event: Input.Blurred) -> None:
        if self._renaming is not None:
            self._end_rename()

    def _end_rename(self) -> None:
        self._renaming = None
        for editor in self.query("#history-rename"):
            editor.remove()
        self.search_input.focus()
        self._refresh_keys()

    # -- keeping rows in step with the store ---------------------------------

    def _update_chat_rows(self, chat_id: int) -> None:
        """Redraw the rows of one chat from the store (title, archived flag, counts)."""
        summary = self.tui.store.chat_summaries([chat_id]).get(chat_id)
        if summary is None:
            self._remove_rows(lambda r: r.chat_id == chat_id)
            return
        now = utc_now()
        for index, row in enumerate(self.rows):
            if row.chat_id != chat_id:
                continue
            row.title, row.archived, row.summary = summary.chat.title, summary.chat.archived, summary
            if row.hit is not None:
                row.hit = replace(row.hit, chat_title=summary.chat.title)
                render: _Row = HitRow(self.option_list, row.hit, summary, row.message, now)
            else:
                render = ChatRow(self.option_list, summary, now)
            self.option_list.replace_option_prompt_at_index(index, render)
        self._refresh_keys()

    def _remove_rows(self, doomed) -> None:
        lst = self.option_list
        for index in reversed([i for i, row in enumerate(self.rows) if doomed(row)]):
            del self.rows[index]
            lst.remove_option_at_index(index)  # keeps the highlight on the same index, clamped
        if len(self.rows) < NEAR_END:
            self._load_more()
        self._refresh_keys()

    def _store_failed(self, error: StoreError) -> None:
        self.notify(str(error), title="History not changed", severity="error", timeout=15, markup=False)

    def _gone(self, row: Row) -> None:
        self.notify("That chat is no longer in the history.", severity="warning", markup=False)
        self._remove_rows(lambda r: r.chat_id == row.chat_id)
        self._show_state()
