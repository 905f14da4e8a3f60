"""Command-palette entries for the conversation's actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..core.text import one_line

if TYPE_CHECKING:
    from .app import ApertisApp


class ChatCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: ApertisApp = self.app  # type: ignore[assignment]
        pane = app.active_pane
        if pane is None:
            return []
        return [
            ("Copy last code block", "Copy the last fenced code block of the replies", pane.copy_last_code_block),
            ("Copy last reply", "Copy the last reply's Markdown (f3)", pane.action_copy_reply),
            ("Regenerate last reply", "Ask again for the last answer (ctrl+g)", pane.action_regenerate),
            ("Stop the reply", "Stop the answer that is arriving (escape)", pane.action_stop),
            ("Show or hide reasoning", "Toggle the last reply's reasoning (ctrl+t)", pane.action_toggle_reasoning),
            ("Show keys", "Every key of this screen (f1)", app.action_show_keys),
            ("Settings", "Key, server, defaults for new chats, parameters, theme (f2)", app.action_settings),
            ("Chat settings…", "This chat's own system prompt and parameters (f6)", app.action_chat_settings),
            ("Pick model…", "Choose the model for this chat's next turns (ctrl+o)", app.action_pick_model),
            ("Regenerate with…", "Replace the last reply with one from a model you pick",
             partial(app.action_pick_model, True)),
            *self._chat_switching(app),
        ]

    @staticmethod
    def _chat_switching(app: "ApertisApp") -> list[tuple[str, str, Callable[[], object]]]:
        conversation = app.conversation
        if conversation is None:
            return []
        entries: list[tuple[str, str, Callable[[], object]]] = [
            ("New chat", "Open a new chat with the default model (ctrl+n)", conversation.action_new_chat),
            ("Close chat", "Close this chat; it stays in the history (ctrl+w)", conversation.action_close_chat),
        ]
        for number, pane in enumerate(conversation.panes, start=1):
            title = one_line(pane.chat.title, 60) if pane.chat and pane.chat.title else "New chat"
            entries.append((f"Switch to: {title}", f"Open chat {number}", partial(conversation.action_jump, number)))
        return entries

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
