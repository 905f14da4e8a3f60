"""The scrolling list of messages. It follows a streaming answer (Textual's anchor) until the
user scrolls up, and mounts older messages only when the user scrolls near the top."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.containers import VerticalScroll

from ...core.types import Message
from ..textual_internals import LayoutOnce
from .message_view import MessageView

#: Loads up to ``limit`` messages older than ``before_id`` (oldest first).
OlderLoader = Callable[[int, int], Sequence[Message]]


class MessageList(LayoutOnce, VerticalScroll):
    DEFAULT_CSS = """
    MessageList { height: 1fr; }
    """
    PAGE = 40

    def __init__(self, *, load_older: OlderLoader | None = None, **kwargs) -> None:
        # "-empty": no scroll bar gutter but as wide a padding, until the first message. An
        # empty chat is what the app's first frame usually shows, and a scroll bar there is a
        # widget more to import and draw (~3 ms of the start) for a list that cannot scroll.
        kwargs["classes"] = f"{kwargs.get('classes', '')} -empty".strip()
        super().__init__(**kwargs)
        self._load_older = load_older
        self._no_more_older = load_older is None
        self.can_focus = True

    def on_mount(self) -> None:
        self.anchor()

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def add(self, message: Message, *, streaming: bool = False) -> MessageView:
        view = MessageView(message, streaming=streaming)
        self.remove_class("-empty")
        self.mount(view)
        return view

    def show(self, messages: Sequence[Message], *, more_before: bool, follow: bool = True) -> None:
        """Replace the contents with ``messages`` (a chat's newest page, or from a given message)."""
        self.remove_children()
        self._no_more_older = not more_before or self._load_older is None
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

    def _mount_older(self) -> None:
        views = self.views
        if self._load_older is None or not views or self._no_more_older:
            return
        older = list(self._load_older(views[0].message.id, self.PAGE))
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
