"""The history screen (ctrl+r): its keys, and what they do to the highlighted chat: rename it in
place, archive or restore it, export it, delete it. Each change goes to the store, then to the
rows (which carry their chat), then to the app's ``chat_changed`` signal, which open chat panes
follow.

The list, the search and the paging are in browser.py; the rows in rows.py.
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.widgets import Input

from ....core.store import StoreError
from ....core.text import one_line
from ....core.timefmt import utc_now
from ....core.types import Chat
from ...textual_internals import option_line
from ...paths import stylesheets
from ...signals import ChatChanged
from ..confirm import ConfirmDialog
from .browser import HistoryBrowser
from .dialogs import start_export
from .widgets import RenameInput

ROW_ACTIONS = frozenset({"open", "rename", "export", "delete", "archive", "restore"})


class HistoryScreen(HistoryBrowser):
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_archived":
            # Two bindings share f7; only the one whose label fits is active (and shown).
            return parameters[0] != self.show_archived
        if action in ROW_ACTIONS and self.renaming is not None:
            return None
        if action == "archive":
            return False if self.row_archived else (True if self.has_row else None)
        if action == "restore":
            return self.row_archived
        if action in ROW_ACTIONS:
            return True if self.has_row else None
        return True

    # -- changing the highlighted chat ----------------------------------------

    def action_archive(self) -> None:
        self._set_archived(True)

    def action_restore(self) -> None:
        self._set_archived(False)

    def _set_archived(self, archived: bool) -> None:
        row, pager = self.current, self.pager
        if row is None or pager is None:
            return
        try:
            chat = self.tui.store.update_chat(row.chat_id, archived=archived)
        except StoreError as error:
            self._store_failed(error)
            return
        if chat is None:
            self._gone(row.chat_id)
            return
        if pager.keeps(chat):
            self._update_chat_rows(chat.id)
        else:  # it now belongs to the other list
            self._remove_rows(chat.id)
            pager.dropped()
            self._show_state()
        self._announce(chat.id, chat)
        name = f"“{one_line(chat.title, 40) or 'Untitled chat'}”"
        if archived:
            self.notify(f"Archived {name}. f7 shows archived chats; f5 there restores it.", markup=False)
        else:
            self.notify(f"Restored {name}.", markup=False)

    def _highlighted_chat(self) -> Chat | None:
        """The highlighted row's chat as stored now; None without a row, or if the chat is gone
        (then its rows go too)."""
        row = self.current
        if row is None:
            return None
        chat = self.tui.store.get_chat(row.chat_id)
        if chat is None:
            self._gone(row.chat_id)
        return chat

    def action_delete(self) -> None:
        chat = self._highlighted_chat()
        if chat is None:
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
            self._remove_rows(chat.id)
            if self.pager is not None:
                self.pager.dropped()
            self._show_state()
            self._announce(chat.id, None)
            self.notify(f"Deleted “{name}”.", markup=False)

        self.app.push_screen(
            ConfirmDialog(f"Delete “{name}”?\n\nIts {count} {'message is' if count == 1 else 'messages are'} "
                          "removed from the history for good. To keep it out of the way instead, archive it (f5).",
                          yes="Delete", danger=True),
            confirmed,
        )

    def action_export(self) -> None:
        chat = self._highlighted_chat()
        if chat is not None:
            start_export(self.tui, chat)

    # -- rename --------------------------------------------------------------

    def action_rename(self) -> None:
        index = self.option_list.highlighted
        if index is None or self.renaming is not None:
            return
        chat = self._highlighted_chat()
        if chat is None:
            return
        self.renaming = chat.id
        editor = RenameInput(chat.title, id="history-rename", select_on_focus=True)
        lst = self.option_list
        region = lst.scrollable_content_region
        line = option_line(lst, index)
        y = region.y + line - round(lst.scroll_y)
        editor.styles.offset = (region.x, max(region.y, min(y, region.bottom - 1)))
        editor.styles.width = region.width
        self.mount(editor)
        editor.focus()

    @on(Input.Submitted, "#history-rename")
    def _rename_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        title = one_line(event.value, 200)
        if not title:
            self.notify("A title needs at least one letter; escape keeps the old one.", severity="warning",
                        markup=False)
            return
        chat_id = self.renaming
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
        self._announce(chat_id, chat)  # an open pane (and its tab) shows the new title too
        self.notify(f"Renamed to “{one_line(title, 60)}”.", markup=False)

    @on(RenameInput.Cancelled)
    def _rename_cancelled(self, event: RenameInput.Cancelled) -> None:
        event.stop()
        self._end_rename()

    @on(Input.Blurred, "#history-rename")
    def _rename_blurred(self, event: Input.Blurred) -> None:
        if self.renaming is not None:
            self._end_rename()

    def _end_rename(self) -> None:
        self.renaming = None
        for editor in self.query("#history-rename"):
            editor.remove()
        self.search_input.focus()

    # -- keeping rows in step with the store ---------------------------------

    def _announce(self, chat_id: int, chat: Chat | None) -> None:
        self.tui.chat_changed.publish(ChatChanged(chat_id, chat))

    def _update_chat_rows(self, chat_id: int) -> None:
        """Redraw the rows of one chat from the store (title, archived flag, counts)."""
        summary = self.tui.store.chat_summaries([chat_id]).get(chat_id)
        if summary is None:
            self._remove_rows(chat_id)
            return
        now = utc_now()
        lst = self.option_list
        for index, row in enumerate(self.rows):
            if row.chat_id == chat_id:
                row.update(summary, now)
                lst.replace_option_prompt_at_index(index, row)  # the row is its own prompt: drawn anew
        self._follow_highlight()

    def _store_failed(self, error: StoreError) -> None:
        self.notify(str(error), title="History not changed", severity="error", timeout=15, markup=False)
