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
    from textual._compositor import Compositor

    assert hasattr(Compositor, "update_widgets")
