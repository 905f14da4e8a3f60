"""The chat pane's side of the conversation tree: which versions of a turn there are, making
another (regenerate), flipping between them, editing a question into a new version, forking,
opening a chat at a message of another branch, and the branch in the status line.

A mixin of ``ChatPane`` (it uses the pane's store, message list, prompt and status line): the
list announces what was asked of the selected message (``MessageList.Asked``), and this decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.store import StoreError
from ...core.text import one_line
from .message_list import MessageList

if TYPE_CHECKING:
    from ...core.types import Chat
    from ...core.types import Message as StoredMessage
    from ..app import ApertisApp
    from .message_view import MessageView
    from .status_line import StatusLine


class Branches:
    # Provided by ChatPane.
    chat: "Chat | None"
    model: str
    leaf_id: int | None
    editing: "StoredMessage | None"
    _draft: str
    tui: "ApertisApp"
    messages: MessageList
    status: "StatusLine"
    is_streaming: bool

    # -- what is shown -------------------------------------------------------

    def mark_versions(self, views: "list[MessageView]") -> None:
        """Put "‹ 2/3 ›" on those of ``views`` whose turn has other versions."""
        if not views or self.chat is None:
            return
        positions = self.tui.store.sibling_positions([v.message for v in views])
        for view in views:
            view.set_versions(positions.get(view.message.id))

    def drop_views_from(self, message_id: int) -> None:
        """Remove the view of ``message_id`` and everything shown below it (another version
        of that turn, and what follows it, takes their place)."""
        views = self.messages.views
        for at, view in enumerate(views):
            if view.message.id == message_id:
                if self.messages.selected in views[at:]:
                    self.messages.select(None)
                for gone in views[at:]:
                    gone.remove()
                self.messages.more_after = False  # what comes next is the new end of the branch
                return

    def branch_text(self) -> str:
        """ "branch 1 of 2" when the chat has more than one branch, else nothing."""
        if self.chat is None or self.leaf_id is None:
            return ""
        leaves = self.tui.store.leaves(self.chat.id)
        if len(leaves) < 2 or self.leaf_id not in leaves:
            return ""
        return f"branch {leaves.index(self.leaf_id) + 1} of {len(leaves)}"

    def show_idle_status(self) -> None:
        if self.editing is not None:
            self.status.editing()
        elif not self.is_streaming:
            self.status.ready(self.model, self.branch_text())

    def show_message(self, message_id: int) -> None:
        """Scroll to a stored message, mounting it (and what follows) if it is not yet shown; a
        message on another branch makes that branch current first."""
        for view in self.messages.views:
            if view.message.id == message_id:
                break
        else:
            if self.chat is None:
                return
            store = self.tui.store
            path = store.path_ids(self.leaf_id)
            if message_id not in path:
                try:
                    self.leaf_id = store.set_current(self.chat.id, message_id)
                except StoreError:
                    return
                path = store.path_ids(self.leaf_id)
            start = max(0, path.index(message_id) - 2)  # two messages above it, for context
            shown = store.path_to(self.leaf_id, after_depth=start, limit=self.messages.PAGE)
            self.messages.show(shown, more_before=start > 0, more_after=start + len(shown) < len(path), follow=False)
            self.mark_versions(self.messages.views)
            self.show_idle_status()
            self.call_after_refresh(self.show_message, message_id)
            return
        self.messages.release_anchor()
        self.messages.scroll_to_widget(view, top=True, animate=False)

    def action_regenerate(self, model: str | None = None, view: "MessageView | None" = None) -> None:
        """Another version of a reply (the last one, or ``view``), or a retry of a failed one.
        The old reply stays, as a sibling: a keystroke away."""
        if self.is_streaming:
            self.tui.notify("An answer is still arriving: press escape to stop it first.", severity="warning")
            return
        if self.refuse_free([model or self.model]):  # type: ignore[attr-defined]  # (web search on)
            return
        if view is None and self.messages.more_after:
            self.show_path()  # (the middle of the branch is shown: its last reply is the one meant)
        views = self.messages.views
        if view is None and views:
            view = views[-1]
        if self.chat is None or view is None:
            self.tui.notify("Nothing to regenerate yet: send a message first.")
            return
        # A reply: another version beside it. A question whose reply never started: its answer.
        parent = view.message.parent_id if view.message.role == "assistant" else view.message.id
        if parent is None:
            self.tui.notify("Nothing to regenerate yet: send a message first.")
            return
        if view.message.role == "assistant":
            self.drop_views_from(view.message.id)
        self._start_reply(model or self.model, parent)  # type: ignore[attr-defined]

    # -- selecting -----------------------------------------------------------

    def action_select_messages(self) -> None:
        """ctrl+up: select the newest message (then up / down, left / right, e r f c)."""
        views = self.messages.views
        if not views:
            self.tui.notify("There is no message to select yet.")
            return
        self.messages.focus()
        self.messages.select(views[-1])

    def target_view(self, role: str | None = None) -> "MessageView | None":
        """The selected message, else the last one shown (of ``role``, if given): what the
        palette's message commands act on."""
        selected = self.messages.selected
        if selected is not None and selected.is_attached and (role is None or selected.message.role == role):
            return selected
        for view in reversed(self.messages.views):
            if role is None or view.message.role == role:
                return view
        return None

    def ask(self, what: str, step: int = 0, role: str | None = None) -> None:
        """What a key does to the selected message, from the palette (to the last message when
        none is selected)."""
        view = self.target_view(role)
        if view is None:
            self.tui.notify("There is no message for that yet.")
            return
        self.on_message_list_asked(MessageList.Asked(view, what, step))

    def on_message_list_selected(self, event: MessageList.Selected) -> None:
        """Another copy of the app may have added versions since the message was shown."""
        event.stop()
        self.mark_versions([event.view])
        self.messages.refresh_bindings()
        self.show_details(event.view)  # type: ignore[attr-defined]

    def on_message_list_left(self, event: MessageList.Left) -> None:
        event.stop()
        self.hide_details()  # type: ignore[attr-defined]
        self.focus_prompt()  # type: ignore[attr-defined]

    def on_message_list_asked(self, event: MessageList.Asked) -> None:
        event.stop()
        view = event.view
        if event.what == "flip":
            self.flip(view, event.step)
        elif event.what == "edit":
            if view.message.role != "user":
                self.tui.notify("Only your own messages can be edited; r regenerates a reply.")
                return
            self.edit(view)
        elif event.what == "regenerate":
            self.action_regenerate(view=view)
        elif event.what == "fork":
            self.run_worker(self.fork(view), group="fork", exit_on_error=False)  # type: ignore[attr-defined]
        elif event.what == "copy":
            self.copy_message(view)
        elif event.what == "fold":
            if view.foldable:
                view.toggle_fold()
            else:
                self.tui.notify("This message has nothing folded.")
        elif event.what == "source":
            self.open_source(view, event.step)  # type: ignore[attr-defined]

    # -- the actions -----------------------------------------------------------

    def flip(self, view: "MessageView", step: int) -> None:
        """Show the previous (-1) or next (1) version of ``view``'s turn; the conversation below
        follows that version's branch, which becomes the chat's current one."""
        if self.chat is None:
            return
        if self.is_streaming:
            self.tui.notify("An answer is still arriving: press escape to stop it first.", severity="warning")
            return
        store = self.tui.store
        try:
            versions = store.siblings(view.message)
            at = versions.index(view.message.id) + step
            if not 0 <= at < len(versions):
                if len(versions) < 2:
                    self.tui.notify("This turn has no other version: r (or ctrl+g) makes one.")
                return
            self.leaf_id = store.set_current(self.chat.id, versions[at])
            leaf = store.get_messages([self.leaf_id])[self.leaf_id]
            # From the version down, a page at a time: a version far up a long branch must not
            # mount (and render) everything below it at once.
            tail = store.path_to(self.leaf_id, after_depth=view.message.depth - 1, limit=self.messages.PAGE)
        except (StoreError, ValueError, KeyError) as error:
            self.tui.notify(f"{error}", severity="error")
            return
        from .message_view import MessageView

        # The widgets below keep their places: each shows the message of the new branch at its
        # depth (mounting new ones would cost styles and a mount each); extra ones come or go.
        views = self.messages.views
        old = views[views.index(view):]
        for widget, message in zip(old, tail):
            widget.show_message(message)
        for gone in old[len(tail):]:
            gone.remove()
        extra = [MessageView(m) for m in tail[len(old):]]
        if extra:
            self.messages.mount_all(extra)
        new_views = [*old[: len(tail)], *extra]
        self.messages.more_after = bool(tail) and tail[-1].depth < leaf.depth
        self.mark_versions(new_views)
        if new_views:
            self.messages.select(new_views[0])
        self.show_idle_status()

    def edit(self, view: "MessageView") -> None:
        """Put a question of yours into the prompt: sending it makes a new version of it (the
        old question and its answers stay); escape gives the draft back."""
        prompt = self.prompt  # type: ignore[attr-defined]
        first = self.editing is None
        if first:
            self._draft = prompt.text
        self.attachments_for_edit(view.message.attachments, first=first)  # type: ignore[attr-defined]
        self.editing = view.message
        prompt.load_text(view.message.content)
        prompt.move_cursor(prompt.document.end)
        self.focus_prompt()  # type: ignore[attr-defined]
        self.show_idle_status()
        self.refresh_bindings()  # type: ignore[attr-defined]

    def end_editing(self, *, restore_draft: bool = False) -> None:
        self.editing = None
        self.attachments_after_edit(restore_draft=restore_draft)  # type: ignore[attr-defined]
        if restore_draft:
            prompt = self.prompt  # type: ignore[attr-defined]
            prompt.load_text(self._draft)
            prompt.move_cursor(prompt.document.end)
        self._draft = ""
        self.show_idle_status()
        self.refresh_bindings()  # type: ignore[attr-defined]

    async def fork(self, view: "MessageView") -> None:
        """A new chat, in a new tab, holding the path up to and including ``view``'s message."""
        if self.chat is None:
            return
        if view.message.status == "streaming":
            self.tui.notify("This answer is still arriving: fork it once it has ended.", severity="warning")
            return
        title = one_line(f"Fork of {self.chat.title or 'a chat'}", 80)
        try:
            fork = self.tui.store.fork_chat(self.chat.id, view.message.id, title)
        except StoreError as error:
            self.tui.notify(f"{error} Nothing was forked.", title="Not forked", severity="error", timeout=20)
            return
        await self.tui.open_chat(fork.id)
        self.tui.notify(f"Forked into a new chat: “{title}”.")

    def copy_message(self, view: "MessageView") -> None:
        text = view.text if view.message.role == "assistant" else view.message.content
        if not text:
            self.tui.notify("This message has no text to copy.")
            return
        self.tui.copy_to_clipboard(text)
        self.tui.notify(f"Copied this message ({len(text)} characters).")
