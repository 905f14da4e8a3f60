"""The base of every modal dialog: a box centred over the dimmed screen, answered with
``dismiss(value)``.

The look all dialogs share is in styles/dialogs.tcss (``Dialog``, ``.dialog-box``,
``.dialog-buttons``, ``.dialog-problem``); a dialog's own rules stay in its screen's sheet.
Textual reads a screen's sheets when it is first shown, so none of this is parsed at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from textual.screen import ModalScreen

from ..paths import stylesheets

ResultT = TypeVar("ResultT")


def dialog_styles(*own: str) -> list[Path]:
    """The shared dialog sheet, then the dialog's own (names in styles/, without .tcss)."""
    return stylesheets("dialogs", *own)


class Dialog(ModalScreen[ResultT]):
    """A modal dialog. Put its content in one container with the class ``dialog-box``."""

    CSS_PATH = dialog_styles()  # a subclass with rules of its own: ``dialog_styles("its-sheet")``
