"""What the app announces to whoever shows a chat, and how an open chat pane follows it.

The history screen renames, archives and deletes stored chats; the settings screen changes the
defaults that a chat's title bar is compared with; ui/spend.py reads the balance and measures
what replies cost. Neither reaches into the panes: they publish
on the app's signals (``ApertisApp.chat_changed``, ``ApertisApp.settings_changed``), and every
pane, subscribed when it is mounted, brings its own title bar up to date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.types import Chat

if TYPE_CHECKING:
    from ..core.settings.file import Settings
    from .spend import SpendNews
    from .widgets.chat_pane import ChatPane


class ChatChanged:
    """A stored chat changed outside its pane: ``chat`` as stored now, or None once deleted.
    (A plain class: a dataclass costs ~0.5 ms to create, on the way to the first frame.)"""

    __slots__ = ("chat_id", "chat")

    def __init__(self, chat_id: int, chat: Chat | None) -> None:
        self.chat_id = chat_id
        self.chat = chat


def follow_app_signals(pane: "ChatPane") -> None:
    """Keep ``pane``'s chat and title bar in step with what the app announces. Immediate: the
    title bar is right in the same frame as the change, as when the panes were updated directly."""

    def chat_changed(change: ChatChanged) -> None:
        if change.chat is not None and pane.chat is not None and pane.chat.id == change.chat_id:
            pane.chat = change.chat
            pane.refresh_title()

    def settings_changed(_settings: "Settings") -> None:
        pane.refresh_title()  # the title bar shows what differs from the defaults
        if app.spend_if_started is not None:  # the balance warning follows warn_below_usd
            spend_changed(None)

    def spend_changed(news: "SpendNews | None") -> None:
        from .spend import show_spend  # (not before a balance was read: off the first frame)

        show_spend(pane, news)

    app = pane.tui
    app.chat_changed.subscribe(pane, chat_changed, immediate=True)
    app.settings_changed.subscribe(pane, settings_changed, immediate=True)
    app.spend_changed.subscribe(pane, spend_changed, immediate=True)
    if app.spend_if_started is not None:  # a chat opened after the balance was read shows it at once
        spend_changed(None)
