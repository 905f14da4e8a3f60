"""The multi-line prompt: Enter sends, ctrl+j (or shift+enter where the terminal reports it)
inserts a newline."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from .prompt_keys import PROMPT_BINDINGS
from .text_inputs import TextEditor


class PromptInput(TextEditor):
    BINDINGS = PROMPT_BINDINGS

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

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)

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
