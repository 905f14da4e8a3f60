"""Attachments in exports: JSON carries their bytes (base64, once per file); a Markdown export
writes each file into a folder beside it (``chat.md`` -> ``chat.files/``) and links it.

File names in that folder come from the attachment's name (untrusted: only letters, digits and
``._-`` are kept) behind the first 8 characters of its hash, so two files of the same name never
collide and the same file is written once.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..attachments.model import describe
from ..text import one_line
from ..types import AttachmentInfo, Message

if TYPE_CHECKING:
    from . import History

_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def files_folder(target: Path) -> str:
    """The folder beside a Markdown export that holds its attachments."""
    return f"{target.stem}.files"


def file_name(info: AttachmentInfo) -> str:
    base = PurePosixPath(info.name.rstrip("/")).name or info.kind
    safe = re.sub(r"[^\w.-]+", "_", base, flags=re.ASCII).strip("._") or info.kind
    stem, suffix = (safe.rsplit(".", 1)[0], "." + safe.rsplit(".", 1)[1]) if "." in safe else (safe, "")
    if info.kind == "image":
        suffix = _SUFFIXES.get(info.mime, suffix)  # a BMP sent as PNG is written as what was sent
    elif info.kind == "folder":
        suffix = ".md"  # its tree and fenced files
    return f"{info.sha256[:8]}-{stem[:80]}{suffix}"


def attachment_lines(message: Message, folder: str | None) -> list[str]:
    """A Markdown list of the message's attachments, each linked into ``folder`` (None: the
    export goes to the standard output and no file is written: names only)."""
    if not message.attachments:
        return []
    out = ["Attachments:", ""]
    for info in message.attachments:
        name = one_line(info.name, 200).replace("[", "(").replace("]", ")")
        what = describe(info)
        if folder is None:
            out.append(f"- {name} ({what}; not written: export to a file to get it)")
        else:
            out.append(f"- [{name}](<{folder}/{file_name(info)}>) ({what})")
    return [*out, ""]


def json_files(store: "History", messages: Sequence[Message]) -> dict[str, Any]:
    """``{sha256: {"kind", "mime", "size", "width", "height", "data"}}``: every file the
    messages carry, its bytes base64."""
    infos = {info.sha256: info for m in messages for info in m.attachments}
    data = store.attachment_data(infos)
    return {sha: {"kind": info.kind, "mime": info.mime, "size": info.size, "width": info.width,
                  "height": info.height, "data": base64.b64encode(data[sha]).decode("ascii")}
            for sha, info in infos.items() if sha in data}


def message_attachments(message: Message) -> list[dict[str, Any]]:
    """A JSON message record's ``attachments``: each file by hash, with its name and note."""
    return [{"sha256": info.sha256, "name": info.name, "kind": info.kind, "mime": info.mime, "size": info.size,
             "width": info.width, "height": info.height, "note": info.note} for info in message.attachments]


def write_files(store: "History", messages: Sequence[Message], folder: Path) -> int:
    """Write every file the messages carry into ``folder`` (made if needed); how many."""
    infos = {info.sha256: info for m in messages for info in m.attachments}
    if not infos:
        return 0
    data = store.attachment_data(infos)
    folder.mkdir(exist_ok=True)  # (an export replaced with its files: the same names again)
    for sha, info in infos.items():
        if sha in data:
            (folder / file_name(info)).write_bytes(data[sha])
    return len(infos)


def write_chat_files(store: "History", chat_id: int, target: Path) -> tuple[int, Path]:
    """The files of chat ``chat_id`` into the folder beside the Markdown export ``target``:
    (how many, the folder)."""
    folder = target.parent / files_folder(target)
    return write_files(store, store.messages(chat_id), folder), folder
