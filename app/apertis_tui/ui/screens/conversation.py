"""The main screen: the open chat and the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from ...core.types import Chat
from ..widgets.chat_pane import ChatPane


class ConversationScreen(Screen):
    def __init__(self, chat: Chat | None, model: str) -> None:
        super().__init__()
        self._chat = chat
        self._model = model

    def compose(self) -> ComposeResult:
        yield ChatPane(self._chat, model=self._model, id="chat")
        yield Footer()

    def on_mount(self) -> None:
        self.app.conversation_ready()  # type: ignore[attr-defined]

    @property
    def pane(self) -> ChatPane:
        return self.query_one(ChatPane)
