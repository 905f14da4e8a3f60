"""What the app does to paint its first frame sooner, and where each trick is undone.

- The garbage collector is off from ``cli.main`` until the first frame is out, then frozen
  and tuned (``tune_gc``).
- The prompt (a TextArea: ~12 ms to import and mount, a tenth of the start) is drawn by a
  light stand-in, ``PromptSlot``; once the first frame is out each chat puts the real prompt
  in its place (``ChatPane.swap_in_prompt``, called from ``first_frame_out``).
- Keys typed meanwhile are never lost: the stand-in keeps them and hands them to the prompt in
  the order they came; keys handed out while nothing has the focus yet go to the chat in front
  (``TypedAhead``, on the conversation screen).

Everything here runs before the first frame: nothing heavy may be imported.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from textual import events
from textual.widget import Widget

from .textual_internals import TakesKeys, forward_key
from .widgets.prompt_keys import PROMPT_BINDINGS

if TYPE_CHECKING:
    from .app import ApertisApp

#: Seconds after the first frame before the balance is first asked for (ui/spend.py): httpx
#: and the connection's set-up are not to compete with the first keys typed.
FIRST_BALANCE_READING = 1.0


def tune_gc() -> None:
    """Fewer, cheaper collector passes while answers stream.

    A streamed answer makes many short-lived objects (freed by reference counting) and keeps
    its rendered lines; with the default thresholds the collector ran ~25 full passes over all
    of that per long answer, each freezing the screen for up to 0.2 s. What start-up built is
    frozen (never scanned again), young passes come less often, and full passes rarely.
    (The collector was off while the app started: the ~1,500 objects of cyclic garbage that
    start-up leaves are frozen too - a full pass to free them took ~15 ms.)
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 100)
    gc.enable()  # the command line turns it off while the app starts (see cli.main)


def first_frame_out(app: ApertisApp) -> None:
    """Undo the start-up tricks (the app calls it on Ready, posted right after the first frame
    is painted). What start-up built lives as long as the app: keep it out of the collector's
    full passes. Then the prompts take their stand-ins' place: now, not a refresh (~17 ms) later."""
    tune_gc()
    conversation = app.conversation
    for pane in conversation.panes if conversation is not None else ():
        pane.swap_in_prompt()


class PromptSlot(TakesKeys, Widget, can_focus=True):
    """Looks like an empty prompt (the same keys in the key bar); keeps the keys it is sent."""

    BINDINGS = PROMPT_BINDINGS  # shown in the key bar as the prompt's; never run here (see below)
    DEFAULT_CSS = """
    PromptSlot { height: 3; background: $surface; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._kept: list[events.Key | events.Paste] = []
        self._successor: Widget | None = None

    def render(self) -> str:
        return ""

    def take_key(self, event: events.Key | events.Paste) -> bool:
        # Taken as the app hands the key out, in the order keys arrive (from this widget's
        # queue it would be later, and could be overtaken once the prompt takes over). Kept, or
        # passed straight on once the prompt is there.
        if self._successor is not None:
            forward_key(self._successor, event)
        else:
            self._kept.append(event)
        return True

    def hand_over(self, prompt: Widget) -> None:
        """Put ``prompt`` in this stand-in's place: it gets the focus if the stand-in had it,
        the keys kept so far, then every key still sent here; the stand-in is removed."""
        self.parent.mount(prompt, after=self)  # type: ignore[union-attr]  # in the DOM at once; mounted soon after
        if self.screen.focused is self:
            self.screen.set_focus(prompt, scroll_visible=False)
        self._successor = prompt
        kept, self._kept = self._kept, []
        for event in kept:
            forward_key(prompt, event)
        self.remove()


class TypedAhead(TakesKeys):
    """For a screen: keys typed ahead while the app starts can be handed out before anything
    has the focus, and the screen would drop them; they go to ``typing_target()`` instead."""

    def typing_target(self) -> Widget | None:
        return None

    def take_key(self, event: events.Key | events.Paste) -> bool:
        if self.focused is not None:  # type: ignore[attr-defined]
            return False
        target = self.typing_target()
        if target is None:
            return False
        forward_key(target, event)
        return True
