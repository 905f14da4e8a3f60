"""The prompt's keys, and a stand-in for the prompt in the app's first frame.

The prompt is a TextArea: importing and mounting one takes ~12 ms, a tenth of the start-up.
The first chats on screen start with a PromptSlot, drawn like an empty prompt; right after the
first frame their ChatPane puts the real prompt in its place (``ChatPane.prompt`` does it at
once when something needs the prompt sooner). Keys that reach the slot meanwhile are kept and
handed to the prompt in the order they came, so nothing typed at start-up is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding
from textual.widget import Widget

if TYPE_CHECKING:
    from .prompt_input import PromptInput

# Not priority bindings: the app runs those the moment a key arrives, ahead of the typed
# characters still queued for the prompt, so "hello⏎" typed fast (or sent by tmux, a macro)
# sent an empty prompt and left "hello" in it. OrderedKeys (text_inputs) runs these in the
# order typed, before TextArea's own handling of the key (which would insert a newline).
PROMPT_BINDINGS = [
    Binding("enter", "submit", "Send", id="prompt.send"),
    Binding("ctrl+j,shift+enter", "newline", "Newline", id="prompt.newline"),
    Binding("end", "end", "Line end, then newest message", show=False, id="prompt.end"),
    Binding("pageup", "scroll_messages(-1)", "Scroll up", show=False, id="prompt.page_up"),
    Binding("pagedown", "scroll_messages(1)", "Scroll down", show=False, id="prompt.page_down"),
]


class PromptSlot(Widget, can_focus=True):
    """Looks like an empty prompt (the same keys in the key bar); keeps the keys it is sent."""

    BINDINGS = PROMPT_BINDINGS  # shown in the key bar as the prompt's; never run here (see below)
    DEFAULT_CSS = """
    PromptSlot { height: 3; background: $surface; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._kept: list[events.Event] = []
        self._successor: PromptInput | None = None

    def render(self) -> str:
        return ""

    def _forward_event(self, event: events.Event) -> None:
        # The app hands a key to the focused widget here, in the order keys arrive (posting it
        # to this widget's queue would be later, and could be overtaken once the prompt takes
        # over). Keys and pastes are kept, or passed straight on once the prompt is there.
        if isinstance(event, (events.Key, events.Paste)):
            if self._successor is not None:
                self._successor._forward_event(event)
            else:
                self._kept.append(event)
            return
        super()._forward_event(event)

    def hand_over(self, prompt: PromptInput) -> None:
        """From now on keys go to ``prompt``; those kept so far go first."""
        self._successor = prompt
        kept, self._kept = self._kept, []
        for event in kept:
            prompt._forward_event(event)
