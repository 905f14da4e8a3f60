"""The plain data of attachments: a prepared attachment, its refusals, and how sizes and
attachments read in one line. (The limits are ``limits``: the settings load them at start-up.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..types import AttachmentInfo, AttachmentKind
from .limits import KB, MB, AttachmentLimits

KIND_MARKS = {"image": "▣", "text": "≡", "folder": "▤"}
__all__ = ["KB", "MB", "KIND_MARKS", "Attachment", "AttachmentError", "AttachmentLimits", "describe", "human_size",
           "make"]


class AttachmentError(Exception):
    """A path that cannot be attached; ``str(error)`` is a sentence for the user."""


@dataclass(frozen=True)
class Attachment(AttachmentInfo):
    """An attachment ready to send and store: its info and its bytes (what is sent: an image
    after scaling, a text file's UTF-8 text, a folder's listing and texts)."""

    data: bytes = field(default=b"", repr=False)

    @property
    def info(self) -> AttachmentInfo:
        return AttachmentInfo(self.sha256, self.kind, self.mime, self.size, self.name, self.width, self.height,
                              self.note)


def make(kind: AttachmentKind, mime: str, name: str, data: bytes, *, width: int | None = None,
         height: int | None = None, note: str = "") -> Attachment:
    """An attachment of ``data``, named by its content hash (the same bytes are stored once)."""
    import hashlib  # (~8 ms: OpenSSL; not at start-up)

    return Attachment(hashlib.sha256(data).hexdigest(), kind, mime, len(data), name, width, height, note, data)


def human_size(size: int) -> str:
    """``812 KB``, ``3.1 KB``, ``4.2 MB``, ``17 bytes`` (1 KB = 1,024 bytes)."""
    if size < KB:
        return f"{size} byte{'s' if size != 1 else ''}"
    for unit, scale in (("KB", KB), ("MB", MB), ("GB", MB * KB)):
        value = size / scale
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def describe(info: AttachmentInfo) -> str:
    """One line: kind, dimensions or what was done, size ("image 4032×3024 → 2016×1512, 812 KB")."""
    if info.kind == "image":
        what = f"image {info.note}" if info.note else (
            f"image {info.width}×{info.height}" if info.width and info.height else "image")
    elif info.kind == "folder":
        what = f"folder: {info.note}" if info.note else "folder"
    else:
        what = f"text, {info.note}" if info.note else "text"
    return f"{what}, {human_size(info.size)}"
