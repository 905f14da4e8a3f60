"""The chat pane's side of comparisons: one prompt to several models at once, their answers
side by side (``ComparisonView``), and the pick that ends it.

Stored as ordinary messages (see ``core.store.compare``): the first compared question once,
its answers as siblings; every later prompt once per column, below that column's answer. A
comparison is open until an answer is picked; while it is, the chat shows the conversation up
to the first compared question, then the comparison's turns.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from ...core.store import StoreError
from ...core.types import Comparison
from ...core.types import Message as StoredMessage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ...core.types import AttachmentInfo
    from ..app import ApertisApp
    from .chat_pane import ChatPane
    from .comparison_view import CompareCell, ComparisonView

# The comparison widgets are imported when a comparison is first shown: not for the first frame.


class Comparing:
    """Mixed into ``ChatPane``."""

    comparing: tuple[str, ...]
    comparison: Comparison | None

    # -- the set of models -------------------------------------------------------

    def set_comparing(self: "ChatPane", models: list[str]) -> None:
        """Send the next prompts to these models at once (two to six); empty: stop comparing.
        An open comparison with another set ends on its first column (its other answers stay,
        as siblings): the new set starts from there."""
        models = list(dict.fromkeys(models))[:6]
        wanted = tuple(models) if len(models) >= 2 else ()
        if self.is_streaming and wanted != self.comparing:
            self.tui.notify("Answers are still arriving: wait for them (or press escape), then change what "
                            "this chat compares.", severity="warning")
            return
        if self.comparison is not None and wanted != self.comparison.models:
            first = self.comparison.models[0]
            self._pick(0, quiet=True)
            self.tui.notify(f"The comparison so far goes on with {first}'s answer; the others are its "
                            "versions (ctrl+up, then ← →).", timeout=8)
        self.comparing = wanted
        self.refresh_title()
        if not self.is_streaming:
            self.show_idle_status()

    @property
    def comparison_view(self: "ChatPane") -> "ComparisonView | None":
        found = self.messages.query_children("ComparisonView")
        return found.last() if found else None

    # -- showing ------------------------------------------------------------------

    def show_comparison(self: "ChatPane", comparison: Comparison) -> None:
        """The chat up to the compared question, then the comparison's turns (after a restart,
        or after flipping back to it)."""
        from .comparison_view import ComparisonView

        store = self.tui.store
        page = store.path_to(comparison.root_id, limit=self.messages.PAGE)
        self.messages.show(page, more_before=bool(page) and page[0].depth > 1)
        view = ComparisonView(comparison, comparison.models)
        self.messages.mount(view)
        prompts = [m for m in store.path_to(comparison.leaves[0])
                   if m.role == "user" and m.depth > page[-1].depth] if page else []
        for turn, answers in enumerate(store.comparison_turns(comparison)):
            cells = view.new_turn(prompts[turn - 1] if 0 < turn <= len(prompts) else None)
            for cell, answer in zip(cells, answers):
                if answer is not None:
                    cell.show(answer)
        self.messages.jump_to_end()

    # -- sending ------------------------------------------------------------------

    def send_compared(self: "ChatPane", text: str, attachments: "Sequence[AttachmentInfo]" = ()) -> bool:
        """Store ``text`` (with ``attachments``) as the prompt of every compared column and ask each model."""
        from .comparison_view import ComparisonView

        store = self.tui.store
        comparison = self.comparison
        models = comparison.models if comparison is not None else self.comparing
        try:
            if self.chat is None:
                title = text[:60] or ", ".join(a.name for a in attachments)[:60]
                self.chat = self.tui.new_chat(models[0], title=title, system_prompt=self._pending_system_prompt,
                                              params=self._pending_params, tools=self._pending_tools,
                                              web=self._pending_web)
                self.refresh_title()
            if comparison is None:
                question = store.add_message(self.chat.id, "user", text, parent_id=self.leaf_id, attachments=attachments)
                prompts = [question] * len(models)
            else:
                prompts = [store.add_message(self.chat.id, "user", text, parent_id=leaf, attachments=attachments)
                           for leaf in comparison.leaves]
        except StoreError as error:
            self.tui.notify(f"{error} The message was not sent; it is still in the prompt.", title="Not sent",
                            severity="error", timeout=20)
            return False
        if comparison is None:
            if self.messages.more_after:
                self.show_path()
            self.messages.add(prompts[0])
            view = ComparisonView(None, models)
            self.messages.mount(view)
            cells = view.new_turn(None)
        else:
            view = self.comparison_view or ComparisonView(comparison, models)
            if not view.is_attached:
                self.messages.mount(view)
            cells = view.new_turn(prompts[0])
        self.messages.jump_to_end()
        self._worker = self._compare(models, prompts, cells)
        self.refresh_bindings()
        self.post_message(self.Changed(self))
        return True

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _compare(self: "ChatPane", models: tuple[str, ...], prompts: list[StoredMessage],
                       cells: list[CompareCell]) -> None:
        from .reply_saver import ReplySaver

        assert self.chat is not None
        app: ApertisApp = self.tui
        started = []
        for model, prompt in zip(models, prompts):
            saver = ReplySaver(app, self.chat.id)
            message = saver.start(model, prompt.id)
            if message is None:
                return
            started.append((saver, message))
        leaves = [message.id for _, message in started]
        try:
            if self.comparison is None:
                self.comparison = app.store.start_comparison(self.chat.id, prompts[0].id, list(models), leaves)
            else:
                self.comparison = app.store.set_leaves(self.comparison.id, leaves) or self.comparison
        except StoreError as error:
            app.notify(f"{error} The comparison's answers are saved, but not as a comparison.", severity="error")
        self.leaf_id = leaves[0]
        self.status.tools(f"comparing · {len(models)} models answering · esc stops all")
        try:
            await asyncio.gather(*(
                self._answer(model, prompt.id, None, None, cell=cell, started=pair)
                for model, prompt, cell, pair in zip(models, prompts, cells, started)
            ))
        finally:
            if self.is_attached:
                self.status.tools("compared · ctrl+up, then ← → (or a digit) and enter picks an answer; "
                                  "the next prompt goes to every model again")
                self.call_later(self.refresh_bindings)
                self.post_message(self.Changed(self, finished=True))

    # -- picking ------------------------------------------------------------------

    def on_comparison_view_picked(self: "ChatPane", event: "ComparisonView.Picked") -> None:
        event.stop()
        if self.is_streaming:
            self.tui.notify("The answers are still arriving: wait for them, or press escape to stop them.",
                            severity="warning")
            return
        self._pick(event.column)

    def on_comparison_view_left(self: "ChatPane", event: "ComparisonView.Left") -> None:
        event.stop()
        self.focus_prompt()

    def _pick(self: "ChatPane", column: int, *, quiet: bool = False) -> None:
        comparison = self.comparison
        if comparison is None or self.chat is None:
            return
        try:
            self.tui.store.pick(comparison.id, column)
        except StoreError as error:
            self.tui.notify(str(error), severity="error")
            return
        self.chat = self.tui.store.get_chat(self.chat.id) or self.chat
        self.model = self.chat.model
        self.leaf_id = self.chat.current_id
        self.comparison = None
        self.comparing = ()
        self.refresh_title()
        self.show_path()
        self.show_idle_status()
        self.focus_prompt()
        if not quiet:
            self.tui.notify(f"Going on with {self.model}'s answer; the others are its versions "
                            "(ctrl+up, then ← →).")

    def show_message(self: "ChatPane", message_id: int) -> None:
        """A history hit in an undecided comparison (an answer, or a later prompt of one column):
        the comparison with that column current, scrolled to that turn. Anywhere else, as for
        any message (see Branches), which would show one column's branch as a plain chat."""
        view = self.comparison_view
        if self.comparison is not None and view is not None:
            column = self._column_of(message_id)
            for cells in view.rows if column is not None else ():
                cell = cells[column]
                if cell.view is not None and message_id in (cell.view.message.id, cell.view.message.parent_id):
                    view.current = column
                    self.messages.release_anchor()
                    self.messages.scroll_to_widget(cell.row, top=True, animate=False)
                    return
        super().show_message(message_id)  # type: ignore[misc]

    def _column_of(self: "ChatPane", message_id: int) -> int | None:
        """Which column of the open comparison ``message_id`` is in (None: in none of them, or
        above them all)."""
        comparison = self.comparison
        store = self.tui.store
        columns = [column for column, leaf in enumerate(comparison.leaves) if message_id in store.path_ids(leaf)]
        return columns[0] if len(columns) == 1 else None

    def action_select_messages(self: "ChatPane") -> None:
        """ctrl+up: while a comparison is open, its columns get the keys (← → a digit, enter
        picks); otherwise a message is selected (see Branches)."""
        view = self.comparison_view
        if self.comparison is not None and view is not None:
            view.focus()
            view.scroll_visible()
            return
        super().action_select_messages()  # type: ignore[misc]

    def action_regenerate(self: "ChatPane", model: str | None = None, view=None) -> None:
        if self.comparison is not None:
            self.tui.notify("Pick an answer first (ctrl+up, then enter); the next prompt goes to every "
                            "compared model.", severity="warning")
            return
        super().action_regenerate(model, view)  # type: ignore[misc]
