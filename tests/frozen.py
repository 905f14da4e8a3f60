"""Fixed clocks, time zone and cursors, so the app draws the same cells on every run.

Used by tests/test_snapshots.py and scripts/screenshots.py. The app itself is not changed:
the names it reads the time through are swapped for fixed ones while ``frozen()`` is active.

- ``now_iso`` in the store's modules (every ``created_at`` / ``updated_at``) -> a clock that starts at a
  fixed moment and moves ``step`` seconds per call; ``clock.at(moment)`` moves it (to give
  stored chats different ages).
- ``datetime`` in ``core.timefmt`` (is a message from today? "2 h ago" in the history)
  -> a ``datetime`` whose ``now()`` is ``NOW``.
- ``time`` in ``chat_pane``, ``status_line`` and ``tool_round`` (first-token time, duration,
  tok/s in the status line; a tool call's duration) -> a monotonic clock that moves ``tick`` seconds per reading: the same
  figures on every run, as long as the stream sends the same events.
- ``TZ=UTC``: local times are UTC times.

If the app stops reading the time through one of these names, ``frozen()`` raises and
says which, instead of letting the pictures drift.
"""

from __future__ import annotations

import importlib
import os
import time as real_time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from textual.app import App
from textual.widgets import Input, TextArea

NOW = datetime(2025, 6, 12, 16, 20, tzinfo=timezone.utc)  # "now", for every picture


class IsoClock:
    """Stands in for the store's ``now_iso``: ISO-8601 UTC text, ``step`` seconds further per call."""

    def __init__(self, start: datetime, step: float) -> None:
        self.moment = start
        self.step = timedelta(seconds=step)

    def at(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> str:
        moment, self.moment = self.moment, self.moment + self.step
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FrozenDatetime(datetime):
    """A ``datetime`` whose ``now()`` is always ``NOW`` (in ``tz``, or naive local time)."""

    @classmethod
    def now(cls, tz: Any = None) -> "FrozenDatetime":  # type: ignore[override]
        moment = NOW.astimezone(tz) if tz is not None else NOW.astimezone().replace(tzinfo=None)
        return cls.fromisoformat(moment.isoformat())


class TickingTime:
    """Stands in for the ``time`` module: ``monotonic()`` moves ``tick`` seconds per reading."""

    def __init__(self, tick: float) -> None:
        self.tick = tick
        self._now = 1000.0

    def monotonic(self) -> float:
        now = self._now
        self._now += self.tick
        return now

    def __getattr__(self, name: str) -> Any:
        return getattr(real_time, name)


# (module, attribute) -> what stands in for it; see the module docstring.
_STORE = "apertis_tui.core.store"
_TARGETS = (
    (f"{_STORE}.opening", "now_iso"),  # each store module that stamps rows reads the clock by this name
    (f"{_STORE}.chats", "now_iso"),
    (f"{_STORE}.messages", "now_iso"),
    (f"{_STORE}.tree", "now_iso"),
    ("apertis_tui.core.timefmt", "datetime"),
    ("apertis_tui.ui.widgets.chat_pane", "time"),
    ("apertis_tui.ui.widgets.status_line", "time"),
    ("apertis_tui.ui.widgets.tool_round", "time"),  # a tool call's duration
)


@contextmanager
def frozen(start: datetime | None = None, *, step: float = 3.0, tick: float = 0.0) -> Iterator[IsoClock]:
    """Freeze the app's clocks and time zone while the block runs; yields the store's clock."""
    clock = IsoClock(start or NOW - timedelta(minutes=5), step)
    stand_ins = {"now_iso": clock, "datetime": FrozenDatetime, "time": TickingTime(tick)}
    saved: list[tuple[Any, str, Any]] = []
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    real_time.tzset()
    try:
        for module_name, attribute in _TARGETS:
            module = importlib.import_module(module_name)
            if not hasattr(module, attribute):
                raise RuntimeError(f"{module_name} no longer has {attribute!r}: tests/frozen.py needs to follow "
                                   "how the app reads the time now, or the pictures will change from run to run")
            saved.append((module, attribute, getattr(module, attribute)))
            setattr(module, attribute, stand_ins[attribute])
        yield clock
    finally:
        for module, attribute, original in reversed(saved):
            setattr(module, attribute, original)
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        real_time.tzset()


def answers_drawn(app: App) -> bool:
    """Every message of the chat in front is drawn to its end. An answer that arrived live is
    rendered a time budget per frame, and may still be catching up after it finished: a picture
    taken then would depend on the machine's speed."""
    pane = getattr(app, "active_pane", None)
    if pane is None:
        return True
    views = pane.messages.query("MessageView")  # (a comparison's answers are inside its columns)
    return not any(view.body.behind or view.reasoning.behind for view in views)


def steady(app: App) -> None:
    """Make the picture independent of when it is taken: cursors stop blinking (a blinking one
    is drawn or not depending on the moment), toasts go."""
    for screen in app.screen_stack:
        for widget in screen.query("*"):
            if isinstance(widget, (Input, TextArea)):
                widget.cursor_blink = False
            if isinstance(widget, TextArea):
                # A TextArea caches its lines; one drawn in a blink's "off" phase has the same cache
                # key as one with a steady cursor, and would be shown without the cursor. This hook
                # empties that cache (Textual calls it when styles change).
                widget.notify_style_update()
                widget.refresh()
    app.clear_notifications()
