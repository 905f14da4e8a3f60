"""A folder as one attachment: its tree first (so the model sees the layout), then each text
file in a fenced block headed by its path, all within the text limit.

``.gitignore`` files are honoured as git does (``pathspec``'s GitIgnoreSpec): the folder's own,
those below it, and those above it up to the root of the git work tree it is in; ``.git`` is
always left out. Links to folders are not followed (a loop, or half the disk). Binary files and
files past the limit are listed, marked, and left out; the walk stops after ``MAX_ENTRIES``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..text import clean
from .model import Attachment, AttachmentError, AttachmentLimits, human_size, make
from .texts import SNIFF, decode, fenced_file, looks_binary

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

MAX_ENTRIES = 5000  # files and folders looked at, at most
MAX_DEPTH_UP = 40  # folders climbed to find the work tree's root


@dataclass
class Entry:
    rel: str  # relative to the attached folder, "/"-separated
    is_dir: bool
    depth: int
    size: int = 0
    note: str = ""  # why it is left out ("binary", "over the limit", "unreadable")
    text: str | None = None  # the text sent


@dataclass
class _Rules:
    """The .gitignore files that apply, each with the folder it sits in (relative to the root
    of the walk's work tree, "" for the top)."""

    specs: list[tuple[str, "GitIgnoreSpec"]] = field(default_factory=list)

    def ignored(self, rel_to_top: str, is_dir: bool) -> bool:
        path = rel_to_top + ("/" if is_dir else "")
        for base, spec in reversed(self.specs):  # the deepest file decides first, as in git
            if base and not path.startswith(base + "/"):
                continue
            result = spec.check_file(path[len(base) + 1:] if base else path)
            if result.include is not None:
                return bool(result.include)
        return False


def _spec(path: Path) -> "GitIgnoreSpec | None":
    from pathspec import GitIgnoreSpec

    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return GitIgnoreSpec.from_lines(lines)


def _top_of(folder: Path) -> Path:
    """The root of the git work tree ``folder`` is in, or ``folder`` itself."""
    at = folder
    for _ in range(MAX_DEPTH_UP):
        if (at / ".git").exists():
            return at
        if at.parent == at:
            break
        at = at.parent
    return folder


def _walk(folder: Path) -> tuple[list[Entry], bool]:
    """Every entry under ``folder`` not ignored, in tree order; and whether the walk was cut."""
    top = _top_of(folder)
    prefix = folder.relative_to(top).as_posix() if folder != top else ""
    rules = _Rules()
    # .gitignore files above the folder, from the top of the work tree down.
    parts = prefix.split("/") if prefix else []
    for depth in range(len(parts)):
        base = "/".join(parts[:depth])
        spec = _spec(top / base / ".gitignore") if (top / base / ".gitignore").is_file() else None
        if spec is not None:
            rules.specs.append((base, spec))
    entries: list[Entry] = []
    seen = 0

    def visit(directory: Path, rel: str, depth: int) -> bool:
        nonlocal seen
        own = directory / ".gitignore"
        pushed = False
        if own.is_file():
            spec = _spec(own)
            if spec is not None:
                rules.specs.append(("/".join(p for p in (prefix, rel) if p), spec))
                pushed = True
        try:
            with os.scandir(directory) as scan:
                children = sorted(scan, key=lambda e: e.name)
        except OSError:
            children = []
        try:
            for child in children:
                if child.name == ".git":
                    continue
                seen += 1
                if seen > MAX_ENTRIES:
                    return False
                child_rel = f"{rel}/{child.name}" if rel else child.name
                try:
                    is_dir = child.is_dir(follow_symlinks=False)
                    is_file = child.is_file()
                except OSError:
                    continue
                if not (is_dir or is_file):
                    continue  # sockets, devices, broken links, links to folders
                if rules.ignored("/".join(p for p in (prefix, child_rel) if p), is_dir):
                    continue
                entries.append(Entry(child_rel, is_dir, depth))
                if is_dir and not visit(Path(child.path), child_rel, depth + 1):
                    return False
        finally:
            if pushed:
                rules.specs.pop()
        return True

    whole = visit(folder, "", 0)
    return entries, not whole


def _read(path: Path, entry: Entry, budget: int) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        entry.note = "unreadable"
        return
    entry.size = size
    if size > budget:
        entry.note = "over the limit"
        return
    try:
        with path.open("rb") as f:
            data = f.read(budget + 1)
    except OSError:
        entry.note = "unreadable"
        return
    if len(data) > budget:
        entry.note = "over the limit"
    elif looks_binary(data[:SNIFF], entry.rel):
        entry.note = "binary"
    else:
        entry.text = decode(data)


def _tree(name: str, entries: list[Entry]) -> str:
    """``tree``-style lines (├── └── │) under the folder's name."""
    # Whether each entry is the last of its siblings: one pass from the end.
    last = [False] * len(entries)
    seen: dict[int, bool] = {}
    for index in range(len(entries) - 1, -1, -1):
        depth = entries[index].depth
        last[index] = not seen.get(depth, False)
        seen[depth] = True
        for deeper in [d for d in seen if d > depth]:
            del seen[deeper]  # the entries below belong to another parent
    lines = [name]
    rails: list[str] = []  # what each open level draws on the lines below it
    for index, entry in enumerate(entries):
        del rails[entry.depth:]
        label = entry.rel.rsplit("/", 1)[-1] + ("/" if entry.is_dir else "")
        note = f"  ({entry.note}, left out)" if entry.note else ""
        lines.append(f"{''.join(rails)}{'└── ' if last[index] else '├── '}{clean(label)}{note}")
        rails.append("    " if last[index] else "│   ")
    return "\n".join(lines)


def prepare_folder(folder: Path, name: str, limits: AttachmentLimits) -> Attachment:
    """The folder ``name`` (shown as given, ending in "/") as one text attachment."""
    limit = limits.text_max_bytes
    try:
        entries, cut = _walk(folder)
    except OSError as error:
        raise AttachmentError(f"{name} could not be read ({error.strerror or error}).") from None
    files = [e for e in entries if not e.is_dir]
    if not files:
        raise AttachmentError(f"{name} has no files to attach (it is empty, or .gitignore leaves everything out).")
    label = name if name.endswith("/") else name + "/"
    head = label.rstrip("/")
    # Room for the tree first: it is sent whole, whatever fits of the texts after it.
    # (each left-out file's mark, up to ~30 bytes, is reserved too)
    budget = limit - len(_tree(label, entries).encode("utf-8")) - 30 * len(files) - 200
    if budget <= 0:
        raise AttachmentError(f"{name} holds too many files for the {human_size(limit)} text limit even to list "
                              "them (Settings, f2: Attachments).")
    blocks: list[str] = []
    for entry in files:
        _read(folder / entry.rel, entry, budget)
        if entry.text is None:
            continue
        block = fenced_file(clean(f"{head}/{entry.rel}"), entry.text)
        cost = len(block.encode("utf-8")) + 2
        if cost > budget:
            entry.note, entry.text = "over the limit", None
            continue
        budget -= cost
        blocks.append(block)
    sent = sum(1 for e in files if e.text is not None)
    left = len(files) - sent
    summary = f"{sent} file{'s' if sent != 1 else ''}" + (f", {left} left out" if left else "")
    if cut:
        summary += f", listing stopped after {MAX_ENTRIES:,} entries"
    header = f"Folder {label} ({summary}):"
    text = "\n\n".join([header + "\n" + _tree(label, entries), *blocks]) + "\n"
    return make("folder", "text/plain", label, text.encode("utf-8"), note=summary)
