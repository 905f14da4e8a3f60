"""f4: the open chats, numbered; a digit or Enter brings one to the front."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from .dialog import Dialog


class ChatSwitcher(Dialog[int | None]):
    """Dismisses with the chosen chat's index, or None."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel", id="switcher.cancel"),
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)),
    ]

    def __init__(self, labels: list[str], current: int) -> None:
        super().__init__()
        self.labels = labels
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="switcher", classes="dialog-box"):
            yield Static(Content("Open chats — a digit or Enter switches, escape cancels"), id="switcher-title", classes="dialog-title")
            yield OptionList(*(Option(Content(label)) for label in self.labels), id="switcher-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.current
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_pick(self, index: int) -> None:
        if index < len(self.labels):
            self.dismiss(index)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
