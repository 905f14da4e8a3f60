"""Command-palette entries for the conversation's actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import FuzzySearch

from ..core.text import one_line
from .titles import chat_title

if TYPE_CHECKING:
    from .app import ApertisApp

_fuzzy = FuzzySearch()


def highlight(query: str, name: str) -> Content:
    """``name`` with the letters matching ``query`` emphasised. (``Matcher.highlight`` would
    read a chat title such as "x[/]" as markup and fail.)"""
    _score, offsets = _fuzzy.match(query, name)
    content = Content(name)
    for offset in offsets:
        content = content.stylize("bold underline", offset, offset + 1)
    return content


Command = tuple[str, str, Callable[[], object]]  # name, help, what it does


class Commands(Provider):
    """A fixed list of commands, shown and matched as plain text (titles are data)."""

    def _commands(self) -> list[Command]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(Content(name), callback, text=name, help=Content(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, highlight(query, name), callback, text=name, help=Content(help_text))


class ChatCommands(Commands):
    def _commands(self) -> list[Command]:
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
            ("Select a message", "Then up/down; left/right for its versions; e r f c (ctrl+up)",
             pane.action_select_messages),
            ("Previous version", "Of the selected message, else the last reply (left)",
             partial(pane.ask, "flip", -1)),
            ("Next version", "Of the selected message, else the last reply (right)", partial(pane.ask, "flip", 1)),
            ("Edit my message", "The selected one, else your last: sending makes a new version (e)",
             partial(pane.ask, "edit", role="user")),
            ("Fork the chat here", "A new chat up to the selected message, else the whole path (f)",
             partial(pane.ask, "fork")),
            ("Copy the selected message", "Or the last one, as Markdown (c)", partial(pane.ask, "copy")),
            ("Attach a file or folder…", "Starts an @ mention in the prompt: type the path, tab completes",
             pane.start_mention),
            ("Attachments of the prompt", "List them: delete removes one, enter previews (ctrl+l)",
             pane.action_attachments),
            ("Show keys", "Every key of this screen (f1)", app.action_show_keys),
            ("Settings", "Key, server, defaults for new chats, parameters, theme (f2)", app.action_settings),
            ("Chat settings…", "This chat's own system prompt and parameters (f9)", app.action_chat_settings),
            ("Tools…", "The tool servers, their tools, and this chat's tool settings (f6)", app.action_tools),
            ("Pick model…", "Choose the model for this chat's next turns (ctrl+o)", app.action_pick_model),
            ("Regenerate with…", "Replace the last reply with one from a model you pick",
             partial(app.action_pick_model, True)),
            ("Compare models…", "Send the next prompts to two to six models at once; tick none to stop (f7)",
             app.action_compare),
            ("Web search on/off", f"This chat's answers search the web first (Apertis); now "
             f"{'on' if pane.web_on else 'off'} (f5)", pane.action_toggle_web_search),
            *self._sources(pane),
            *self._chat_switching(app),
        ]

    @staticmethod
    def _sources(pane) -> list[Command]:
        """The sources of the selected reply (else the last one), to open one in the browser."""
        view = pane.target_view("assistant")
        if view is None:
            return []
        return [(f"Open source {number}: {one_line(source.title, 60)}", source.url or "no address that can be opened",
                 partial(pane.open_source, view, number))
                for number, source in enumerate(view.message.sources, start=1)]

    @staticmethod
    def _chat_switching(app: "ApertisApp") -> list[Command]:
        conversation = app.conversation
        if conversation is None:
            return []
        entries: list[Command] = [
            ("New chat", "Open a new chat with the default model (ctrl+n)", conversation.action_new_chat),
            ("Close chat", "Close this chat; it stays in the history (ctrl+w)", conversation.action_close_chat),
        ]
        for number, pane in enumerate(conversation.panes, start=1):
            title = chat_title(pane.chat, 60)
            entries.append((f"Switch to: {title}", f"Open chat {number}", partial(conversation.action_jump, number)))
        return entries



class HistoryCommands(Commands):
    """The history: open it, search it (also straight from what is typed here), export."""

    def _commands(self) -> list[Command]:
        app: ApertisApp = self.app  # type: ignore[assignment]
        return [
            ("History", "Every chat, newest first: open, rename, archive, export, delete (ctrl+r)", app.action_history),
            ("Search history…", "Find a chat by any word of its title or messages (ctrl+r, then type)",
             app.action_history),
            ("Export this chat…", "Save the chat in front as Markdown or JSON", app.action_export_chat),
            ("Export comparison…", "The chat's comparisons as a Markdown table: first token, tokens/s, tokens, "
             "first lines, the chosen answer marked", app.action_export_comparison),
            *self._history_screen_commands(),
        ]

    def _history_screen_commands(self) -> list[Command]:
        """On the history screen, its keys too (they act on the highlighted chat)."""
        from .screens.history import HistoryScreen

        screen = self.screen
        if not isinstance(screen, HistoryScreen):
            return []
        row = screen.current
        entries: list[Command] = [
            ("Show archived chats" if not screen.show_archived else "Hide archived chats",
             "Switch between the chats and the archived ones (f7)",
             partial(screen.action_show_archived, not screen.show_archived)),
        ]
        if row is not None:
            entries += [
                ("Open the highlighted chat", "In a tab, at the matched message (enter)", screen.action_open),
                ("Rename the highlighted chat", "Edit its title in place (f2)", screen.action_rename),
                ("Export the highlighted chat…", "As Markdown or JSON (f4)", screen.action_export),
                ("Restore the highlighted chat" if row.archived else "Archive the highlighted chat",
                 "Archived chats stay searchable (f5)",
                 screen.action_restore if row.archived else screen.action_archive),
                ("Delete the highlighted chat…", "After a confirmation (f8)", screen.action_delete),
            ]
        return entries

    async def search(self, query: str) -> Hits:
        async for hit in super().search(query):
            yield hit
        words = one_line(query, 60)
        if words:
            app: ApertisApp = self.app  # type: ignore[assignment]
            # Last in the list: whatever was typed can be looked up in the history.
            yield Hit(0.01, Content(f"Search history for “{words}”"), partial(app.action_history, words),
                      help="Titles and messages containing these words")
