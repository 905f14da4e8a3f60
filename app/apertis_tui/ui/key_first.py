"""Typed keys before streamed text.

While answers stream fast (six at once in a comparison) the event loop always has work ready:
stream slices, answers' redraws, frames. A key goes from the terminal to the screen through
several queues (the app's, the focused widget's, the screen's), and in each it waited behind
everything the loop had ready; then for the screen's update timer, which after a slow frame
skips a tick. So, from the moment the app is handed a key until the frame that shows it (at
most ``KEY_FIRST_MAX``):

- the streams step aside (``step_aside``): each waits instead of taking its next slice, so
  the key's way through the queues is short;
- streaming answers put their redraws off until just after, keeping their turn among a
  comparison's columns (their shared slots, ``MessageView._pace``, are not taken again: that
  made the columns' redraws drift late and their ends painted later);
- the garbage collector waits: a pass it would have made then is made right after;
- once the focused widget has dealt with the key, the screen makes a frame at once
  (``paint_now``) instead of at its timer's next tick.

Nothing is dropped: the text that arrives meanwhile waits in the sockets and is shown a few
milliseconds later.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING

from textual import events
from textual.dom import NoScreen

from .pacing import KEY_FIRST_MAX, KEY_FIRST_POLL
from .textual_internals import paint_now

if TYPE_CHECKING:
    from textual.widget import Widget

_until = 0.0  # time.monotonic() until which a key is on its way to the screen
_gc_paused = False  # the collector was on and is off for the key


def key_arrived(event: object) -> None:
    """The app was handed ``event``: if it is a key or a paste, it goes first (the app calls
    this as the event is posted)."""
    global _until, _gc_paused
    if not isinstance(event, (events.Key, events.Paste)):
        return
    if _until == 0.0 and gc.isenabled():
        gc.disable()
        _gc_paused = True
    _until = time.monotonic() + KEY_FIRST_MAX
    try:
        asyncio.get_running_loop().call_later(KEY_FIRST_MAX, _expire)
    except RuntimeError:  # (posted from outside the loop: the time limit alone applies)
        pass


def key_handed_on(target: Widget) -> None:
    """The app handed the key to ``target`` (the focused widget, or the screen). Once it has
    dealt with it and asked for its repaint (its next callbacks run after that), the screen is
    asked to call back after its next frame: that frame shows the key; then streams go on."""
    if _until:
        target.call_next(_handled, target)


def _handled(target: Widget) -> None:
    # A frame at once (the screen's timer could make it wait up to two ticks), with the
    # target's repaint in it; then streams go on.
    try:
        screen = target.screen
    except NoScreen:  # the key closed what it was typed into (enter in a dialog)
        key_shown()
        return
    paint_now(target, screen)
    screen.call_after_refresh(key_shown)


def key_shown() -> None:
    global _until, _gc_paused
    _until = 0.0
    if _gc_paused:
        _gc_paused = False
        gc.enable()


def _expire() -> None:
    if _until and time.monotonic() >= _until:
        key_shown()


def pending() -> bool:
    """A typed key is on its way to the screen."""
    if _until and time.monotonic() >= _until:
        key_shown()
    return bool(_until)


async def step_aside() -> None:
    """Wait (briefly, polling) until no typed key is on its way to the screen."""
    while pending():
        await asyncio.sleep(KEY_FIRST_POLL)
