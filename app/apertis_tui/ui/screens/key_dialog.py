"""First run: ask for the API key, masked, and say where to get one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static
from ..widgets.text_inputs import TextInput
from .dialog import Dialog


class KeyDialog(Dialog[str | None]):
    """Dismisses with the key typed, or None when the user goes on without one."""

    BINDINGS = [Binding("escape", "skip", "Skip", id="key.skip")]

    def __init__(self, base_url: str, problem: str = "") -> None:
        super().__init__()
        self.base_url = base_url
        self.problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(id="key-dialog", classes="dialog-box"):
            yield Static(Text("Welcome to apertis-tui", style="bold"), id="key-title", classes="dialog-title")
            explain = Text()
            explain.append("An API key is needed to chat. Get one at ")
            explain.append("https://apertis.ai", style="underline")
            explain.append(" (Stima API keys work too).\n")
            explain.append(f"Server: {self.base_url}\n", style="dim")
            explain.append("The key is saved to your settings file with mode 0600. "
                           "You can also set APERTIS_API_KEY or STIMA_API_KEY instead.", style="dim")
            yield Static(explain, id="key-explain")
            yield TextInput(placeholder="sk-…", password=True, id="key-input")
            yield Static(Text(self.problem), id="key-problem",
                         classes="dialog-problem -error" if self.problem else "dialog-problem")
            with Horizontal(id="key-buttons", classes="dialog-buttons"):
                yield Button("Save key", variant="primary", id="key-save")
                yield Button("Skip (browse history)", id="key-skip")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _submit(self) -> None:
        key = self.query_one(Input).value.strip()
        if not key:
            problem = self.query_one("#key-problem", Static)
            problem.update(Text("Type or paste a key, or press escape to go on without one."))
            problem.add_class("-error")
            return
        self.dismiss(key)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "key-save":
            self._submit()
        else:
            self.dismiss(None)

    def action_skip(self) -> None:
        self.dismiss(None)
