"""The prompt's attachments, as chips on a line above it: files on their way to the next
message, each prepared in a thread (read, scaled, hashed: ``core.attachments.prepare``) while
the user goes on typing.

Mounted the first time something is attached (nothing of it is part of the first frame). A
failure is a notification with the reason, and the item goes; a path attached twice, or two
files with the same content, are attached once. ``Settled`` tells the chat pane when nothing is
being prepared any more (it may be waiting to send).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.message import Message
from textual.widget import Widget

from ...core import logs
from ...core.attachments.model import AttachmentError, AttachmentLimits
from ...core.types import AttachmentInfo
from ..attachment_chips import chip, chip_lines

log = logging.getLogger(__name__)


@dataclass(eq=False)
class TrayItem:
    name: str  # as shown (cleaned)
    path: Path | None  # None: an attachment already stored (a message being edited)
    info: AttachmentInfo | None = None  # None while it is prepared; an Attachment carries its bytes

    @property
    def ready(self) -> bool:
        return self.info is not None


class AttachmentTray(Widget):
    DEFAULT_CSS = """
    AttachmentTray { height: auto; max-height: 4; padding: 0 1; margin: 0 1; display: none; }
    AttachmentTray.-shown { display: block; }
    AttachmentTray > .tray--chip { background: $boost; color: $text; }
    AttachmentTray > .tray--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"tray--chip", "tray--dim"}

    class Changed(Message):
        """Items came or went."""

    class Settled(Message):
        """Nothing is being prepared any more; ``failed``: something failed since the last time."""

        def __init__(self, failed: bool) -> None:
            super().__init__()
            self.failed = failed

    class Clicked(Message):
        """A chip was clicked: show the list (ctrl+l)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items: list[TrayItem] = []
        self._failed = False
        self._same: set[Path] = set()  # paths found to hold what another item holds: attached once

    # -- state ----------------------------------------------------------------

    @property
    def preparing(self) -> bool:
        return any(not item.ready for item in self.items)

    @property
    def ready(self) -> list[AttachmentInfo]:
        return [item.info for item in self.items if item.info is not None]

    def _changed(self) -> None:
        self.set_class(bool(self.items), "-shown")
        self.refresh(layout=True)
        self.post_message(self.Changed())

    # -- adding and removing ----------------------------------------------------

    def add(self, path: Path, name: str, limits: AttachmentLimits) -> bool:
        """Prepare ``path`` (shown as ``name``) in a thread; False when it is attached already."""
        if path in self._same or any(item.path == path or (item.path is None and item.name == name)
                                     for item in self.items):
            return False
        item = TrayItem(name, path)
        self.items.append(item)
        self._changed()
        self.run_worker(self._prepare(item, path, limits), group="attach", exit_on_error=False)
        return True

    def set_stored(self, infos: tuple[AttachmentInfo, ...] | list[AttachmentInfo]) -> list[TrayItem]:
        """Show these stored attachments (a message being edited) instead; the old items back."""
        old, self.items = self.items, [TrayItem(info.name, None, info) for info in infos]
        self._changed()
        return old

    def restore(self, items: list[TrayItem]) -> None:
        self.items = items
        self._changed()

    def remove(self, index: int) -> TrayItem | None:
        if not 0 <= index < len(self.items):
            return None
        item = self.items.pop(index)
        self._changed()
        if not self.preparing:
            self.post_message(self.Settled(self._take_failed()))
        return item

    def clear(self) -> None:
        self.items = []
        self._failed = False
        self._same.clear()
        self._changed()

    def _take_failed(self) -> bool:
        failed, self._failed = self._failed, False
        return failed

    async def _prepare(self, item: TrayItem, path: Path, limits: AttachmentLimits) -> None:
        from ...core.attachments.prepare import prepare

        problem = None
        try:
            attachment = await asyncio.to_thread(prepare, path, item.name, limits)
        except AttachmentError as error:
            problem = str(error)
        except Exception as error:  # a bug of ours: say so, keep the app
            log.exception("preparing an attachment failed")
            where = f" Details are in {logs.current_path}." if logs.current_path else ""
            problem = f"Something went wrong inside apertis-tui while reading {item.name} ({type(error).__name__}).{where}"
        if item not in self.items:  # removed meanwhile
            return
        if problem is not None:
            self.items.remove(item)
            self._failed = True
            self.notify(f"{problem} The prompt is unchanged.", title="Not attached", severity="error", timeout=15)
        elif any(other.info is not None and other.info.sha256 == attachment.sha256 for other in self.items):
            self.items.remove(item)
            self._same.add(path)
            self.notify(f"{item.name} is attached already (the same content as another attachment).",
                        title="Attached once", timeout=6)
        else:
            item.info = attachment
        self._changed()
        if not self.preparing:
            self.post_message(self.Settled(self._take_failed()))

    # -- drawing ------------------------------------------------------------------

    def _lines(self, width: int) -> list[tuple[Text, list[tuple[int, int, int]]]]:
        style = self.get_component_rich_style("tray--chip")
        dim = Style(color=self.get_component_rich_style("tray--dim").color)
        return chip_lines([chip(item.info, item.name, style=style, dim=dim) for item in self.items], width)

    def render(self) -> Text:
        return Text("\n").join(line for line, _ in self._lines(self.content_size.width))

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self._lines(width)))

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(self.Clicked())
