"""A path -> an attachment: an image, a text file or a folder, or a sentence saying why not.

Slow by nature (the disk, Pillow): call ``prepare`` from a thread, never the event loop.
"""

from __future__ import annotations

from pathlib import Path

from ..text import one_line
from .model import Attachment, AttachmentError, AttachmentLimits, human_size, make

# Read whole before anything else is known: an image file may be large, but not this large.
MAX_IMAGE_FILE = 256 * 1024 * 1024


def _readable_name(name: str) -> str:
    return one_line(name, 120) or "(unnamed)"


def prepare(path: Path, name: str, limits: AttachmentLimits) -> Attachment:
    """What ``path`` becomes when attached; ``name`` is how it is shown (untrusted: a file name
    may hold anything, so it is cleaned to one line). Raises AttachmentError."""
    name = _readable_name(name)
    try:
        if path.is_dir():
            from .folders import prepare_folder

            return prepare_folder(path, name, limits)
        if not path.exists():
            raise AttachmentError(f"{name} does not exist (the path is taken from the folder the app was "
                                  "started in; ~ is your home folder).")
        if not path.is_file():
            raise AttachmentError(f"{name} is not a file or a folder, so it cannot be attached.")
        with path.open("rb") as f:
            head = f.read(32)
    except PermissionError:
        raise AttachmentError(f"{name} cannot be read: permission denied.") from None
    except OSError as error:
        raise AttachmentError(f"{name} could not be read ({error.strerror or error}).") from None
    from .images import is_image

    if is_image(head, name):
        return _image(path, name, limits)
    from .texts import read_text

    text = read_text(path, name, limits.text_max_bytes)
    lines = text.count(b"\n") + (0 if text.endswith(b"\n") or not text else 1)
    return make("text", "text/plain", name, text, note=f"{lines:,} line{'s' if lines != 1 else ''}")


def _image(path: Path, name: str, limits: AttachmentLimits) -> Attachment:
    from .images import prepare_image

    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_FILE:
            raise AttachmentError(f"{name} is {human_size(size)}: too large an image file to read.")
        data = path.read_bytes()
    except OSError as error:
        raise AttachmentError(f"{name} could not be read ({error.strerror or error}).") from None
    return prepare_image(data, name, limits)
