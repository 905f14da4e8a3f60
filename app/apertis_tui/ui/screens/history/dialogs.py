"""The export dialog and its flow: choose a format and a path, never replace a file without
asking, write, report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from ...widgets.text_inputs import TextInput
from ....core.pathtext import home_relative
from ....core.store.export import ExportError, ExportExists, ExportFormat, default_path, export_to_file
from ....core.store import StoreError
from ....core.text import one_line
from ....core.types import Chat
from ..confirm import ConfirmDialog
from ..dialog import Dialog

if TYPE_CHECKING:
    from ...app import ApertisApp


class ExportDialog(Dialog[tuple[Path, ExportFormat] | None]):
    """Where to, and in which format. Dismisses with (path, format), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, chat: Chat, fmt: ExportFormat = "md", path: Path | None = None) -> None:
        super().__init__()
        self.chat = chat
        self.fmt: ExportFormat = fmt
        self.path = path or default_path(chat.id, fmt)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="export-dialog"):
            title = Text("Export ", style="bold")
            title.append(f"“{one_line(self.chat.title, 60) or 'Untitled chat'}”", style="bold")
            yield Static(title, classes="dialog-title")
            with RadioSet(id="export-format"):
                yield RadioButton("Markdown (.md)", value=self.fmt == "md", id="export-md")
                yield RadioButton("JSON (.json)", value=self.fmt == "json", id="export-json")
            yield Static(Text("File (a relative path starts at your home folder):"), classes="dialog-label")
            yield TextInput(home_relative(self.path), id="export-path", select_on_focus=False)
            yield Static(Text("Every message goes in, with its model, time, status and token usage; "
                              "the API key never does. An existing file is not replaced without asking.",
                              style="dim"), classes="dialog-detail")
            yield Static("", id="export-problem", classes="dialog-problem", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export-go")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        path_input = self.query_one("#export-path", Input)
        path_input.focus()
        path_input.cursor_position = len(path_input.value)

    def _set_format(self, fmt: ExportFormat) -> None:
        """Keep the radio buttons and the file's suffix in agreement."""
        self.fmt = fmt
        button = self.query_one("#export-md" if fmt == "md" else "#export-json", RadioButton)
        if not button.value:
            button.value = True
        path_input = self.query_one("#export-path", Input)
        current = path_input.value
        suffix = Path(current).suffix.lower()
        if suffix in {".md", ".markdown", ".json"} and suffix != f".{fmt}" and not (fmt == "md" and suffix == ".markdown"):
            path_input.value = current[: len(current) - len(suffix)] + f".{fmt}"

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._set_format("json" if event.pressed.id == "export-json" else "md")
        self.query_one("#export-path", Input).focus()  # so that Enter now exports

    def on_input_changed(self, event: Input.Changed) -> None:
        suffix = Path(event.value).suffix.lower()
        if suffix == ".json" and self.fmt != "json":
            self._set_format("json")
        elif suffix in {".md", ".markdown"} and self.fmt != "md":
            self._set_format("md")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "export-go":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        problem = self.query_one("#export-problem", Static)
        if not text:
            problem.update(Text("Type the file to write, e.g. ~/chat.md."))
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = Path.home() / path  # relative to the home folder, as the default suggests
        self.dismiss((path, self.fmt))

    def action_cancel(self) -> None:
        self.dismiss(None)


def start_export(app: "ApertisApp", chat: Chat, fmt: ExportFormat = "md", path: Path | None = None,
                 on_done: Callable[[Path], None] | None = None) -> None:
    """Ask where to, then write the chat; asks before replacing a file, reports the result."""

    def chosen(result: tuple[Path, ExportFormat] | None) -> None:
        if result is not None:
            write(*result, overwrite=False)

    def write(target: Path, chosen_fmt: ExportFormat, *, overwrite: bool) -> None:
        try:
            written = export_to_file(app.store, chat.id, chosen_fmt, target, secret=app.api_key, overwrite=overwrite)
        except ExportExists:

            def replace(yes: bool | None) -> None:
                if yes:
                    write(target, chosen_fmt, overwrite=True)
                else:  # back to the dialog, to choose another name
                    app.push_screen(ExportDialog(chat, chosen_fmt, target), chosen)

            app.push_screen(
                ConfirmDialog(f"{home_relative(target)} already exists. Replace it with this export?",
                              yes="Replace", danger=True),
                replace,
            )
            return
        except (ExportError, StoreError) as error:
            app.notify(str(error), title="Not exported", severity="error", timeout=10, markup=False)
            return
        app.notify(f"Exported to {home_relative(written)}.", title="Export", markup=False)
        if on_done is not None:
            on_done(written)

    app.push_screen(ExportDialog(chat, fmt, path), chosen)
