"""The main screen: open chats as tabs, each a ChatPane that streams on its own.

The tabs are one ChatTabs line and the keys one KeyBar line (Textual's TabbedContent and Footer
cost a widget per tab and per key, ~20 ms of the first frame); the chats are the screen's own
children, the one in front shown and the others hidden (``display``).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import count
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

from ...core.types import Chat
from ..startup import TypedAhead
from ..titles import chat_title
from ..widgets.chat_pane import ChatPane
from ..widgets.chat_tabs import ChatTabs
from ..widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from ..app import ApertisApp

TAB_TITLE_WIDTH = 24
STREAMING_MARK = "● "  # an answer is arriving in this chat
UNREAD_MARK = "◆ "  # an answer finished while the chat was in the background


class ConversationScreen(TypedAhead, Screen):
    # Focused as the screen first shows (the default, the first focusable widget, is the
    # message list). See also TypedAhead.
    AUTO_FOCUS = "PromptSlot, PromptInput"
    # Priority: the prompt (a TextArea) would take ctrl+w for "delete word" otherwise.
    BINDINGS = [
        Binding("ctrl+n", "new_chat", "New", tooltip="New chat", priority=True, id="chats.new"),
        Binding("ctrl+w", "close_chat", "Close chat", show=False, priority=True, id="chats.close"),
        Binding("ctrl+pageup", "cycle(-1)", "Previous chat", show=False, priority=True, id="chats.previous"),
        Binding("ctrl+pagedown", "cycle(1)", "Next chat", show=False, priority=True, id="chats.next"),
        Binding("f4", "switch_chat", "Chats", id="chats.switch"),
        *(
            Binding(f"alt+{n}", f"jump({n})", f"Chat {n}", show=False, priority=True, id=f"chats.jump{n}")
            for n in range(1, 10)
        ),
    ]

    def __init__(self, chats: Iterable[Chat] = (), *, model: str, focus_index: int = 0) -> None:
        super().__init__()
        self._initial = list(chats)
        self._focus_index = focus_index
        self._model = model
        self._ids = count(1)
        self.unread: set[str] = set()  # pane ids with an answer not yet seen
        self._front: ChatPane | None = None

    @property
    def tui(self) -> "ApertisApp":
        return self.app  # type: ignore[return-value]

    # -- composition ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        chats = self._initial or [None]
        panes = [self._new_pane(chat, self._model, first_frame=True) for chat in chats]
        self._front = panes[min(max(self._focus_index, 0), len(panes) - 1)]
        for pane in panes:
            pane.display = pane is self._front
        yield ChatTabs(id="chat-tabs")
        yield from panes
        yield KeyBar()

    def _new_pane(self, chat: Chat | None, model: str, *, first_frame: bool = False) -> ChatPane:
        return ChatPane(chat, model=model, first_frame=first_frame, id=f"chat-{next(self._ids)}")

    def on_mount(self) -> None:
        self._relabel_all()
        self.pane.focus_prompt()
        self.call_after_refresh(self.tui.remember_session)
        self.app.conversation_ready()  # type: ignore[attr-defined]

    def typing_target(self) -> Widget | None:
        """Where keys typed ahead go while nothing has the focus (see TypedAhead)."""
        return self._front.typing_target() if self._front is not None else None

    def on_screen_resume(self) -> None:
        # Back from a dialog or the history: type into the chat in front, which may not be the
        # one that had the focus when the dialog opened (the history can open another chat).
        self.pane.focus_prompt()

    # -- access --------------------------------------------------------------

    @property
    def tabs(self) -> ChatTabs:
        return self.query_one(ChatTabs)

    @property
    def panes(self) -> list[ChatPane]:
        return [child for child in self.children if isinstance(child, ChatPane)]

    @property
    def pane(self) -> ChatPane:
        """The chat in front."""
        front = self._front
        if front is not None and front.parent is self:
            return front
        return self.panes[0]

    def pane_for(self, chat_id: int) -> ChatPane | None:
        for pane in self.panes:
            if pane.chat is not None and pane.chat.id == chat_id:
                return pane
        return None

    # -- labels --------------------------------------------------------------

    def _label(self, pane: ChatPane) -> Content:
        panes = self.panes
        number = panes.index(pane) + 1 if pane in panes else 0
        title = chat_title(pane.chat, TAB_TITLE_WIDTH)
        mark = STREAMING_MARK if pane.is_streaming else UNREAD_MARK if pane.id in self.unread else ""
        prefix = f"{number} " if 0 < number < 10 else ""
        return Content(f"{mark}{prefix}{title}")

    def _relabel_all(self) -> None:
        """Redraw the tabs: labels (numbers and marks included) and the one in front."""
        panes = self.panes
        if panes:
            self.tabs.set_tabs([(pane.id or "", self._label(pane)) for pane in panes], self.pane.id or "")

    def on_chat_pane_changed(self, event: ChatPane.Changed) -> None:
        pane = event.pane
        if event.finished and pane is not self.pane:
            self.unread.add(pane.id or "")
        self._relabel_all()
        self.tui.remember_session()

    def on_chat_tabs_clicked(self, event: ChatTabs.Clicked) -> None:
        for pane in self.panes:
            if pane.id == event.tab_id:
                self._activate(pane)

    def _activate(self, pane: ChatPane) -> None:
        """Bring ``pane`` to the front: shown, its unread mark cleared, its prompt focused."""
        self._front = pane
        for other in self.panes:
            other.display = other is pane
        pane.load_messages()
        self.unread.discard(pane.id or "")
        self._relabel_all()
        pane.focus_prompt()
        self.tui.remember_session()

    # -- opening and closing -------------------------------------------------

    async def open_chat(self, chat: Chat | None, *, model: str | None = None, message_id: int | None = None) -> ChatPane:
        """Bring ``chat`` to the front (opening a tab for it if needed); None opens a new chat."""
        pane = self.pane_for(chat.id) if chat is not None else None
        if pane is None:
            pane = self._new_pane(chat, model or self._model)
            pane.display = False
            panes = self.panes
            await self.mount(pane, after=panes[-1] if panes else self.tabs)
        self._activate(pane)
        if message_id is not None:
            pane.messages.call_after_refresh(pane.show_message, message_id)
        return pane

    async def close_pane(self, pane: ChatPane) -> None:
        """Close a chat's tab. An answer in progress is stopped and kept; the chat stays in history."""
        pane.action_stop()
        if len(self.panes) == 1:
            await self.open_chat(None)
        self.unread.discard(pane.id or "")
        if pane is self.pane:  # the next chat comes forward (the previous one if it was the last)
            panes = self.panes
            index = panes.index(pane)
            self._activate(panes[index + 1] if index + 1 < len(panes) else panes[index - 1])
        await pane.remove()
        self._relabel_all()
        self.pane.focus_prompt()
        self.tui.remember_session()

    # -- actions -------------------------------------------------------------

    async def action_new_chat(self) -> None:
        await self.open_chat(None, model=self.tui.default_model)

    async def action_close_chat(self) -> None:
        await self.close_pane(self.pane)

    def action_cycle(self, step: int) -> None:
        panes = self.panes
        if len(panes) > 1:
            self._activate(panes[(panes.index(self.pane) + step) % len(panes)])

    def action_jump(self, number: int) -> None:
        panes = self.panes
        if 1 <= number <= len(panes):
            self._activate(panes[number - 1])
        else:
            self.notify(f"There is no chat {number}: {len(panes)} open.", severity="warning")

    def action_switch_chat(self) -> None:
        from .chat_switcher import ChatSwitcher

        def chosen(index: int | None) -> None:
            if index is not None:
                self.action_jump(index + 1)

        panes = self.panes
        self.app.push_screen(ChatSwitcher([self._label(p).plain for p in panes], panes.index(self.pane)), chosen)
