"""Command-palette entries for the conversation's actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

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
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
