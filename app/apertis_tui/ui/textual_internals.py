"""Every use the app makes of Textual's private API, in one file to read when Textual changes.

Each was checked on textual 8.2.8 (pyproject pins <9). Each entry says what it relies on and
what breaks if Textual changes it; tests/test_textual_internals.py fails at once if a name here
is gone. Nothing else in app/ may touch a ``_private`` name of a Textual object.

Outside app/ (not shipped, but to check on an upgrade too): the tests use
``textual._wait.wait_for_idle`` (conftest), ``Screen._compositor`` (to read what is painted)
and ``App._notifications``; the benchmarks wrap ``App._display`` to see frames being painted
and read ``Screen._compositor``.

Kept light: it is imported before the first frame (the message list and the prompt's stand-in
use it), so it imports nothing beyond what Textual's app and Widget already load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.geometry import Size

if TYPE_CHECKING:
    from textual.binding import BindingsMap
    from textual.dom import DOMNode
    from textual.screen import Screen
    from textual.widget import Widget
    from textual.widgets import OptionList


# -- keys handed out by the app ---------------------------------------------------------------
# ``MessagePump._forward_event(event)``: how App.on_event hands a Key or Paste to the focused
# widget (or to the screen when nothing has the focus), synchronously, in the order keys arrive.
# Widget's version marks the event forwarded and posts it to the widget's queue; Screen's drops
# keys. If it is renamed or keys are routed another way, keys typed while the app starts are
# lost or arrive out of order (tests/test_startup.py types ahead in a real terminal).


class TakesKeys:
    """Sees each key and paste the moment the app hands it to this widget or screen (before
    its queue, so before anything already waiting there); ``take_key`` keeps it or lets it on."""

    def take_key(self, event: events.Key | events.Paste) -> bool:
        """True: the event is dealt with, Textual's own handling is skipped."""
        return False

    def _forward_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and self.take_key(event):
            return
        super()._forward_event(event)  # type: ignore[misc]


def forward_key(target: Widget, event: events.Key | events.Paste) -> None:
    """Hand a key to ``target`` as the app hands one to the focused widget."""
    target._forward_event(event)


# -- editing keys in the order typed --------------------------------------------------------
# ``Widget._on_key`` (overridden by Input and TextArea, which insert printable keys there) and
# ``DOMNode._bindings.key_to_bindings`` (the widget's own bindings by key). If either changes,
# fast bursts of keys in text fields may apply out of order again (Textual issue #6605), or a
# field's own bindings (the prompt's Enter) stop running.


class OrderedKeys:
    """Input and TextArea that apply a fast burst of keys in the order it was typed.

    Textual handles a printable key in the focused widget at once, but sends a bound key
    (backspace, ctrl+u, arrows) up to the app before its action runs; keys that arrive together
    - a macro, a busy machine, scripted input - could then apply out of order ("ab<backspace>c"
    giving "ab"). Textual issue #6605. Here the widget runs its own editing bindings inline.
    Priority bindings were already run by the app, in order, and are left alone.
    """

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, []):  # type: ignore[attr-defined]
            # A disabled or skipped action (SkipAction) falls through, as Textual would let it.
            if not binding.priority and await self.app.run_action(binding.action, self):  # type: ignore[attr-defined]
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)  # type: ignore[misc]


# -- one layout per frame while an answer streams -----------------------------------------
# ``Widget._size_updated(size, virtual_size, container_size, layout)`` (called by
# Screen._refresh_layout for every placed widget, before the frame is rendered),
# ``ScrollBar._repaint_required`` and ``Screen._compositor.update_widgets``. If they change,
# a streaming answer costs two layouts and three frames per update instead of one (the
# stream benchmarks show it), or, if the signature changes, the message list fails to lay out.
# ``Widget._layout_required`` and ``Widget._layout_updates`` (part of the key of the widget's
# cached box model): see ``LayoutOnce.refresh``. If they change, a streamed answer or a
# comparison's column can keep a height measured before its last lines (its end not drawn).


class LayoutOnce:
    """For widgets whose size changes every frame while an answer streams: size changes found
    by a layout pass are drawn in that pass's frame, not in two more.

    Textual's layout sets a resized widget's ``virtual_size`` as a reactive with layout=True,
    which schedules a second, full layout of the screen for the next frame; and a scrolling
    widget's scroll bar, updated to the new size, is repainted in a frame of its own after
    that. The first pass already measured these widgets at their new size (a message's height
    comes from ``get_content_height``; the list's scroll size and its anchored offset from the
    same arrangement), so the second pass found nothing to change - yet the frames of a
    streaming answer, and their CPU, were doubled. Here the size is set without asking for a
    layout, and the scroll bar is drawn in the frame being made.
    """

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):
        # Textual counts a layout request (``_layout_updates``, which keys the cached box model)
        # only when none is pending. But the screen may lay out before this widget posts a
        # pending one, measuring it then; a second request would then find that measure cached,
        # and the widget would keep the height it had before its last lines came in (seen as a
        # comparison column whose end was never drawn). Every request counts here.
        if layout and self._layout_required:  # type: ignore[attr-defined]
            self._layout_updates += 1  # type: ignore[attr-defined]
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)  # type: ignore[misc]

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        changed = super()._size_updated(size, virtual_size, container_size, layout=False)  # type: ignore[misc]
        if changed and layout and self.show_vertical_scrollbar:  # type: ignore[attr-defined]
            scrollbar = self.vertical_scrollbar  # type: ignore[attr-defined]
            if scrollbar._repaint_required and scrollbar.is_mounted:
                # Called from Screen._refresh_layout, before it renders the frame: add the
                # scroll bar's dirty region to that frame instead of posting an update.
                scrollbar._repaint_required = False
                self.screen._compositor.update_widgets({scrollbar})  # type: ignore[attr-defined]
        return changed


# -- scroll bars without a layout (the model picker's list) -----------------------------------
# ``Widget._scroll_update(virtual_size)``: sizes the scroll bars to a new virtual size and
# clamps the scroll offset. If it goes, the picker's scroll bar keeps the previous filter's
# length (or, if the name is gone, typing in the picker raises).


def update_scroll_bars(widget: Widget, virtual_size: Size) -> None:
    widget._scroll_update(virtual_size)


# -- OptionList (the history's rows) ----------------------------------------------------------
# ``OptionList._clear_caches()`` drops the rendered options; ``OptionList._index_to_line``
# maps an option's index to its first line. If they change, the history's rows keep the old
# theme's colours after a theme change, or the rename field opens over the wrong row.


def clear_option_caches(option_list: OptionList) -> None:
    option_list._clear_caches()


def option_line(option_list: OptionList, index: int) -> int:
    """The first line of option ``index`` (its index if the list does not know it yet)."""
    return option_list._index_to_line.get(index, index)


# -- the keys in effect (the keys screen, f1) ------------------------------------------------
# ``Screen._modal_binding_chain``: (node, bindings) from the focused widget out to the app,
# stopping at the topmost modal screen, as Textual uses it to run a key. If it changes, the
# keys screen lists keys that do not apply (or none).


def binding_chain(screen: Screen) -> list[tuple[DOMNode, BindingsMap]]:
    return screen._modal_binding_chain


# -- a frame now (a typed key's echo, see ui/key_first.py) -----------------------------------
# ``Widget._check_refresh()``: posts the repaint (or layout) a widget asked for to its screen,
# which Textual does when the widget's queue is next empty; ``Screen._on_timer_update()``: what
# the screen's update timer runs for a frame (lay out, draw the dirty widgets, then the
# after-refresh callbacks); ``App._exit`` and ``Widget._pruning`` (the app, or the widget, is
# being closed). The timer ticks on a 1/60 s grid and, after a pause or a slow frame, skips to
# the grid point after next: a key's echo waited 17-33 ms for its frame. If these names go,
# typed keys echo that much later again.


def paint_now(widget: Widget, screen: Screen) -> None:
    """Post ``widget``'s repaint to its ``screen`` now, and then have the screen make a frame
    (the repaint is in its queue first, so that frame shows it)."""
    widget._check_refresh()
    screen.call_later(_paint, screen, widget)


def _paint(screen: Screen, widget: Widget) -> None:
    # Not once the app is exiting (as the timer's own tick, Timer._tick), nor when the key is
    # removing the widget (``_pruning``): widgets being closed are still in the screen's map
    # until its next layout, and drawing one whose styles are gone raised KeyError. Nor when
    # the key took the focus elsewhere (ctrl+w closing the chat mounts a new prompt, which a
    # frame now drew before its styles were set, KeyError again): the timer draws that frame.
    # And not while any widget the screen would draw is being closed (ctrl+w is the screen's key,
    # so the focus test above does not see it): that is what the next layout settles.
    if screen.app._exit or widget._pruning or not (widget is screen or screen.focused is widget):
        return
    if any(node._pruning or node._closed for node in screen._compositor.widgets):
        return
    screen._on_timer_update()
