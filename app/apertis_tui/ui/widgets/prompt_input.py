"""The multi-line prompt: Enter sends, ctrl+j (or shift+enter where the terminal reports it)
inserts a newline."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message

from .text_inputs import TextEditor


class PromptInput(TextEditor):
    # Not priority bindings: the app runs those the moment a key arrives, ahead of the typed
    # characters still queued for this widget, so "hello⏎" typed fast (or sent by tmux, a
    # macro) sent an empty prompt and left "hello" in it. OrderedKeys runs these in the order
    # typed, before TextArea's own handling of the key (which would insert a newline).
    BINDINGS = [
        Binding("enter", "submit", "Send", id="prompt.send"),
        Binding("ctrl+j,shift+enter", "newline", "Newline", id="prompt.newline"),
        Binding("end", "end", "Line end, then newest message", show=False, id="prompt.end"),
        Binding("pageup", "scroll_messages(-1)", "Scroll up", show=False, id="prompt.page_up"),
        Binding("pagedown", "scroll_messages(1)", "Scroll down", show=False, id="prompt.page_down"),
    ]

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
