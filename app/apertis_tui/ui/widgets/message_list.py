"""The scrolling list of messages. It follows a streaming answer (Textual's anchor) until the
user scrolls up, and mounts older messages only when the user scrolls near the top (and newer
ones near the bottom, when it shows the middle of a long branch: after flipping a version far up).

Focused, it is where messages are selected, all by keyboard: the selected message is marked,
and what is asked of it (another version, edit, regenerate, fork, copy) is announced with a
message for the chat pane, which owns the conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message as TextualMessage

from ...core.types import Message
from ..textual_internals import LayoutOnce
from .message_view import MessageView

#: Loads up to ``limit`` messages of the path before ``first`` (oldest first).
OlderLoader = Callable[[Message, int], Sequence[Message]]
#: Loads up to ``limit`` messages of the path after ``last`` (oldest first).
NewerLoader = Callable[[Message, int], Sequence[Message]]


class MessageList(LayoutOnce, VerticalScroll):
    DEFAULT_CSS = """
    MessageList { height: 1fr; }
    """
    PAGE = 40

    BINDINGS = [
        Binding("up", "select(-1)", "Previous message", show=False, id="messages.up"),
        Binding("down", "select(1)", "Next message", tooltip="Next message (past the last: back to the prompt)",
                show=False, id="messages.down"),
        Binding("home", "select_end(0)", "First message shown", show=False, id="messages.first"),
        Binding("end", "select_end(-1)", "Last message", show=False, id="messages.last"),
        Binding("left", "ask('flip', -1)", "‹ version", tooltip="Previous version of this turn (what follows, too)",
                id="messages.previous_version"),
        Binding("right", "ask('flip', 1)", "version ›", tooltip="Next version of this turn (what follows, too)",
                id="messages.next_version"),
        Binding("e", "ask('edit')", "Edit", tooltip="Edit your message: sending it makes a new version",
                id="messages.edit"),
        Binding("r", "ask('regenerate')", "Regenerate", tooltip="Another version of this reply (chat's model)",
                id="messages.regenerate"),
        Binding("f", "ask('fork')", "Fork", tooltip="Fork: a new chat with the conversation up to here",
                id="messages.fork"),
        Binding("c", "ask('copy')", "Copy", tooltip="Copy this message (Markdown)", id="messages.copy"),
        Binding("o", "ask('fold')", "Unfold", tooltip="Show long tool arguments or a tool result whole (or fold)",
                id="messages.fold"),
        Binding("escape", "leave", "Back", tooltip="Back to the prompt", id="messages.leave"),
        # A reply's web sources, by their numbers: opened only on purpose, never on a click.
        *(Binding(str(n), f"ask('source', {n})", f"Open source {n}", show=False, id=f"messages.source{n}")
          for n in range(1, 10)),
    ]

    class Asked(TextualMessage):
        """The user asked something of the selected message: ``what`` is flip (with ``step``
        -1 or 1), edit, regenerate, fork, copy, fold or source (``step``: its number)."""

        def __init__(self, view: MessageView, what: str, step: int = 0) -> None:
            super().__init__()
            self.view = view
            self.what = what
            self.step = step

    class Selected(TextualMessage):
        """A message was selected (its versions may have changed since it was shown)."""

        def __init__(self, view: MessageView) -> None:
            super().__init__()
            self.view = view

    class Left(TextualMessage):
        """Selecting is over: the prompt should have the focus again."""

    def __init__(self, *, load_older: OlderLoader | None = None, load_newer: NewerLoader | None = None,
                 **kwargs) -> None:
        # "-empty": no scroll bar gutter but as wide a padding, until the first message. An
        # empty chat is what the app's first frame usually shows, and a scroll bar there is a
        # widget more to import and draw (~3 ms of the start) for a list that cannot scroll.
        kwargs["classes"] = f"{kwargs.get('classes', '')} -empty".strip()
        super().__init__(**kwargs)
        self._load_older = load_older
        self._no_more_older = load_older is None
        self._load_newer = load_newer
        self.more_after = False  # the newest message of the branch is not mounted yet
        self.can_focus = True
        self.selected: MessageView | None = None

    def on_mount(self) -> None:
        self.anchor()

    @property
    def views(self) -> list[MessageView]:
        # A plain filter: query_children matched selectors, ~0.5 ms at 128 messages, and this
        # runs at every bindings refresh.
        return [child for child in self.children if isinstance(child, MessageView)]

    def add(self, message: Message, *, streaming: bool = False) -> MessageView:
        view = MessageView(message, streaming=streaming)
        self.remove_class("-empty")
        self.mount(view)
        return view

    def show(self, messages: Sequence[Message], *, more_before: bool, more_after: bool = False,
             follow: bool = True) -> None:
        """Replace the contents with ``messages`` (a chat's newest page, or from a given message)."""
        self.remove_children()
        self._no_more_older = not more_before or self._load_older is None
        self.more_after = more_after and self._load_newer is not None
        self.set_class(not messages, "-empty")
        if messages:
            self.mount_all([MessageView(m) for m in messages])
        if follow:
            self.jump_to_end()

    @property
    def at_end(self) -> bool:
        """The newest line is in view. (An anchored list shorter than the view sits at the
        bottom with a negative scroll offset, which also counts.)"""
        return self.max_scroll_y <= 0 or self.scroll_y >= self.max_scroll_y - 1

    def jump_to_end(self) -> None:
        self.anchor()
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def page(self, pages: int) -> None:
        if pages == 0:
            self.jump_to_end()
        elif pages < 0:
            self.scroll_page_up(animate=False)
        else:
            self.scroll_page_down(animate=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 2 and new < old and not self._no_more_older:
            self.call_later(self._mount_older)
        if self.more_after and new > old and new >= self.max_scroll_y - 2:
            self.call_later(self.mount_newer)

    def mount_newer(self) -> list[MessageView]:
        """The next page of the branch below the last message shown, mounted; what was mounted."""
        views = self.views
        if self._load_newer is None or not views or not self.more_after:
            return []
        newer = list(self._load_newer(views[-1].message, self.PAGE))
        self.more_after = len(newer) >= self.PAGE
        mounted = [MessageView(m) for m in newer]
        if mounted:
            self.mount_all(mounted)
        return mounted

    def _mount_older(self) -> None:
        views = self.views
        if self._load_older is None or not views or self._no_more_older:
            return
        older = list(self._load_older(views[0].message, self.PAGE))
        if len(older) < self.PAGE:
            self._no_more_older = True
        if not older:
            return
        # Keep what the user is looking at in place while the content grows above it.
        before = self.virtual_size.height
        self.mount_all([MessageView(m) for m in older], before=views[0])

        def keep_position() -> None:
            self.scroll_to(y=self.scroll_y + self.virtual_size.height - before, animate=False, immediate=True)

        self.call_after_refresh(keep_position)

    # -- selecting -----------------------------------------------------------

    def select(self, view: MessageView | None) -> None:
        """Mark ``view`` as selected (None: no selection) and bring it into sight."""
        if self.selected is not None and self.selected is not view:
            self.selected.set_class(False, "-selected")
        self.selected = view
        if view is not None:
            view.set_class(True, "-selected")
            self.release_anchor()
            self.scroll_to_widget(view, animate=False, immediate=True)
            self.post_message(self.Selected(view))
        self.refresh_bindings()

    def action_select(self, step: int) -> None:
        views = self.views
        if not views:
            self.action_leave()
            return
        if self.selected is None or self.selected not in views:
            self.select(views[-1])
            return
        at = views.index(self.selected) + step
        if at >= len(views):  # down past the last: the next page of the branch, or back to typing
            if self.more_after and self.mount_newer():
                self.select(self.views[at])
                return
            self.action_leave()
            return
        if at < 0:
            self._mount_older()  # at the top of what is shown: older messages, if any, come in
            return
        self.select(views[at])

    def action_select_end(self, which: int) -> None:
        views = self.views
        if views:
            self.select(views[which])

    def action_ask(self, what: str, step: int = 0) -> None:
        if self.selected is not None:
            self.post_message(self.Asked(self.selected, what, step))

    def action_leave(self) -> None:
        self.select(None)
        self.jump_to_end()
        self.post_message(self.Left())

    def on_blur(self) -> None:
        if self.selected is not None and not self.app.screen.is_modal:
            self.select(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "ask" and self.selected is None:
            return None
        if action == "ask" and parameters:
            message = self.selected.message
            what = parameters[0]
            if what == "flip":
                return True if self.selected.versions is not None else None
            if what == "edit":
                return True if message.role == "user" else None
            if what == "regenerate":
                return True if message.role == "assistant" else None
            if what == "fold":
                return True if self.selected.foldable else None
            if what == "source":
                return True if message.sources else None
        return True
