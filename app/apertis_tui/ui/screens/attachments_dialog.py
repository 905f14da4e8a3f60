"""ctrl+l: the attachments of the prompt (``delete`` removes one), or of a sent message (a click
on its chips); ``enter`` previews the highlighted one (an image in terminals that draw images,
else what it is and its size)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.attachments.model import KIND_MARKS, describe
from ...core.types import AttachmentInfo
from ..widgets.attachment_tray import AttachmentTray
from .dialog import Dialog


class AttachmentsDialog(Dialog[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="attachments.close"),
        Binding("delete,backspace", "remove", "Remove", tooltip="Remove the highlighted attachment from the prompt",
                id="attachments.remove"),
        Binding("enter", "preview", "Preview", tooltip="Show the image, or what the attachment is",
                id="attachments.preview"),
    ]

    def __init__(self, *, tray: AttachmentTray | None = None, infos: list[AttachmentInfo] | None = None,
                 load: Callable[[AttachmentInfo], bytes]) -> None:
        """The prompt's ``tray`` (its items can be removed), or a sent message's ``infos``;
        ``load`` gives an attachment's bytes (called in a thread)."""
        super().__init__()
        self.tray = tray
        self.infos = infos or []
        self.load = load

    @property
    def entries(self) -> list[tuple[str, AttachmentInfo | None]]:
        if self.tray is not None:
            return [(item.name, item.info) for item in self.tray.items]
        return [(info.name, info) for info in self.infos]

    def compose(self) -> ComposeResult:
        title = "Attachments of the prompt — delete removes one" if self.tray is not None else \
            "Attachments of this message"
        with Vertical(id="attachments-dialog", classes="dialog-box"):
            yield Static(Text(f"{title}; enter previews; escape closes."), id="attachments-title",
                         classes="dialog-title")
            yield OptionList(id="attachments-list")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(OptionList).focus()

    def _fill(self, highlight: int = 0) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        for name, info in self.entries:
            line = Text(f"{KIND_MARKS.get(info.kind, '≡') if info else '…'} ", style="bold")
            line.append(name)
            line.append(f"  {describe(info) if info else 'preparing…'}", style="dim")
            options.add_option(Option(line))
        if self.entries:
            options.highlighted = min(highlight, len(self.entries) - 1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove":
            return self.tray is not None and bool(self.entries)
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_remove(self) -> None:
        index = self.query_one(OptionList).highlighted
        if self.tray is None or index is None:
            return
        removed = self.tray.remove(index)
        if removed is not None:
            self.notify(f"Removed {removed.name} from the prompt.", timeout=4)
        if not self.entries:
            self.dismiss(None)
            return
        self._fill(index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_preview()

    def action_preview(self) -> None:
        index = self.query_one(OptionList).highlighted
        entries = self.entries
        if index is None or index >= len(entries):
            return
        name, info = entries[index]
        if info is None:
            self.notify(f"{name} is still being prepared.", timeout=4)
            return
        self._preview(info)

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def _preview(self, info: AttachmentInfo) -> None:
        from ..preview import preview

        await preview(self.app, info, self.load)
