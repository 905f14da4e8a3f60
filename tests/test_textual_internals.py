"""The private parts of Textual the app relies on (ui/textual_internals.py) are still there:
after an upgrade this fails by name, before any behaviour test fails for no clear reason."""

from __future__ import annotations

import inspect

import pytest
from textual.binding import BindingsMap
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from textual.widgets import Input, OptionList, TextArea


@pytest.mark.parametrize(("owner", "name"), [
    (Widget, "_forward_event"),
    (Screen, "_forward_event"),
    (Widget, "_on_key"),
    (Input, "_on_key"),
    (TextArea, "_on_key"),
    (Widget, "_size_updated"),
    (Widget, "_scroll_update"),
    (OptionList, "_clear_caches"),
    (OptionList, "_index_to_line"),
    (Screen, "_modal_binding_chain"),
    (Widget, "_check_refresh"),
    (Screen, "_on_timer_update"),
])
def test_textual_still_has(owner, name):
    assert hasattr(owner, name), f"{owner.__name__}.{name} is gone: see apertis_tui/ui/textual_internals.py"


def test_size_updated_still_takes_layout():
    assert "layout" in inspect.signature(Widget._size_updated).parameters


def test_instance_attributes_still_there():
    assert hasattr(BindingsMap(), "key_to_bindings")
    assert hasattr(ScrollBar(), "_repaint_required")
    assert hasattr(Widget(), "_layout_required") and hasattr(Widget(), "_layout_updates")
    from textual.app import App

    assert hasattr(App(), "_exit") and hasattr(Widget(), "_pruning")
    from textual._compositor import Compositor

    assert hasattr(Compositor, "update_widgets")


async def test_a_layout_request_made_while_one_is_pending_still_counts():
    """A widget asks for a layout, the screen lays out before the widget posts it (measuring it
    then), the widget grows and asks again: its new height must be used, not the cached one."""
    from textual.app import App
    from textual.containers import VerticalScroll

    from apertis_tui.ui.textual_internals import LayoutOnce

    class Growing(LayoutOnce, Widget):
        DEFAULT_CSS = "Growing { height: auto; }"
        lines = 3

        def get_content_height(self, container, viewport, width):
            return self.lines

    class Host(App):
        def compose(self):
            with VerticalScroll():
                yield Growing()

    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        growing = app.query_one(Growing)
        await pilot.pause()
        assert growing.size.height == 3
        growing.lines = 5
        growing.refresh(layout=True)
        # Another child's layout, before this one's request is posted (it measures this one too).
        growing.parent._clear_arrangement_cache()
        app.screen._refresh_layout()
        assert growing.size.height == 5
        growing.lines = 9
        growing.refresh(layout=True)
        await pilot.pause()
        await pilot.pause()
        assert growing.size.height == 9
