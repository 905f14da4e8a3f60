"""The multi-line prompt: Enter sends, ctrl+j (or shift+enter where the terminal reports it)
inserts a newline. A paste that is nothing but paths of existing files (what a terminal pastes
when a file is dropped on it) is announced as ``PathsPasted`` instead of being inserted; while
the chat pane shows completions of an ``@`` mention (``completing``), tab, up and down are
announced as ``CompletionKey``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.message import Message
from textual.reactive import reactive

from .prompt_keys import COMPLETION_BINDINGS, PROMPT_BINDINGS
from .text_inputs import TextEditor


class PromptInput(TextEditor):
    BINDINGS = [*PROMPT_BINDINGS, *COMPLETION_BINDINGS]

    completing = reactive(False, bindings=True)  # the chat pane shows completions of a mention

    DEFAULT_CSS = """
    PromptInput { height: auto; max-height: 12; min-height: 3; }
    """

    @dataclass
    class Submitted(Message):
        prompt: "PromptInput"
        text: str

        @property
        def control(self) -> "PromptInput":
            return self.prompt

    @dataclass
    class ScrollRequest(Message):
        """The user asked to page the messages (pageup/pagedown) or jump to the end."""

        pages: int  # 0 = jump to the end

    @dataclass
    class PathsPasted(Message):
        """Paths of existing files or folders were pasted (or dropped): offer them as attachments."""

        paths: list[Path]

    @dataclass
    class CompletionKey(Message):
        """A key for the list of completions: "complete" or "move" (by ``step``)."""

        what: str
        step: int = 0

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "complete":
            return self.completing  # else tab moves the focus, as before
        return True

    def action_complete(self) -> None:
        self.post_message(self.CompletionKey("complete"))

    def action_up(self) -> None:
        if self.completing:
            self.post_message(self.CompletionKey("move", -1))
        else:
            self.action_cursor_up()

    def action_down(self) -> None:
        if self.completing:
            self.post_message(self.CompletionKey("move", 1))
        else:
            self.action_cursor_down()

    def _on_paste(self, event: events.Paste) -> None:
        # Textual calls every class's handler in turn (TextArea's inserts the text) unless one
        # prevents the default: done for paths only.
        from ...core.attachments.mentions import pasted_paths

        paths = pasted_paths(event.text) if not self.read_only else None
        if paths:
            event.prevent_default()
            self.post_message(self.PathsPasted(paths))

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_end(self) -> None:
        # `end` moves the cursor to the end of its line; once it is there, it jumps the
        # conversation back to its newest message instead.
        row, column = self.cursor_location
        if column >= len(self.document.get_line(row)):
            self.post_message(self.ScrollRequest(0))
        else:
            self.action_cursor_line_end()

    def action_scroll_messages(self, pages: int) -> None:
        self.post_message(self.ScrollRequest(pages))
