"""Input and TextArea that apply a fast burst of keys in the order it was typed (see
``OrderedKeys``)."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from ..textual_internals import OrderedKeys


class TextInput(OrderedKeys, Input):
    """A one-line input."""


class TextEditor(OrderedKeys, TextArea):
    """A multi-line editor."""
