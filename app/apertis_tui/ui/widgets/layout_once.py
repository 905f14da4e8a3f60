"""A mixin for widgets whose size changes every frame while an answer streams."""

from __future__ import annotations

from textual.geometry import Size


class LayoutOnce:
    """Size changes found by a layout pass are drawn in that pass's frame, not in two more.

    Textual's layout sets a resized widget's ``virtual_size`` as a reactive with layout=True,
    which schedules a second, full layout of the screen for the next frame; and a scrolling
    widget's scroll bar, updated to the new size, is repainted in a frame of its own after
    that. The first pass already measured these widgets at their new size (a message's height
    comes from ``get_content_height``; the list's scroll size and its anchored offset from the
    same arrangement), so the second pass found nothing to change - yet the frames of a
    streaming answer, and their CPU, were doubled. Here the size is set without asking for a
    layout, and the scroll bar is drawn in the frame being made.
    """

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
