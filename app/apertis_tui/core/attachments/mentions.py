"""Paths in the prompt: ``@path`` mentions, paths pasted (or dropped: terminals paste a dropped
file's path), and the completions offered while a mention is typed.

A mention is ``@`` at the start of the text or after a space, then a path: plain
(``@src/main.py``), quoted (``@"my photo.png"``) or with escaped spaces (``@my\\ photo.png``).
``~`` is the home folder; a relative path starts at the folder the app was started in.
``mail@example.com`` is not a mention (no space before the ``@``).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..text import clean, one_line
from .images import OTHER_IMAGE_SUFFIXES

_MENTION = re.compile(r'(?<!\S)@("[^"\n]*"?|(?:\\.|[^\s"\\])*)')
_TRAILING = ".,;:!?)]}'\""
_IMAGE_SUFFIXES = frozenset(".png .jpg .jpeg .gif .webp".split()) | OTHER_IMAGE_SUFFIXES
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class Mention:
    start: int  # the column of the "@"
    end: int  # the column after the mention
    path: str  # the path as meant: unquoted, escapes undone


@dataclass(frozen=True)
class Candidate:
    """A completion: ``text`` replaces the mention's path (``name`` is what the list shows)."""

    name: str
    text: str
    is_dir: bool
    size: int | None = None

    @property
    def kind(self) -> str:
        if self.is_dir:
            return "folder"
        return "image" if Path(self.name).suffix.lower() in _IMAGE_SUFFIXES else "file"


def _unescape(raw: str) -> str:
    if raw.startswith('"'):
        return raw[1:-1] if len(raw) > 1 and raw.endswith('"') else raw[1:]
    return re.sub(r"\\(.)", r"\1", raw)


def mention_at(line: str, column: int) -> Mention | None:
    """The mention the cursor (at ``column`` of ``line``) is in or just after."""
    for match in _MENTION.finditer(line):
        if match.start() < column <= match.end():
            return Mention(match.start(), match.end(), _unescape(match.group(1)))
    return None


def mentions(text: str) -> list[str]:
    """Every mentioned path in ``text``, in order, each once."""
    found = [_unescape(m.group(1)) for m in _MENTION.finditer(text)]
    return list(dict.fromkeys(p for p in found if p))


def written(path: str) -> str:
    """A path as a mention writes it: quoted when it holds a space."""
    return f'"{path}"' if re.search(r'\s', path) else path


def resolve(path: str, base: Path) -> Path:
    """``path`` as typed (``~`` expanded, relative to ``base``) as an absolute path."""
    expanded = Path(os.path.expanduser(path))
    return expanded if expanded.is_absolute() else base / expanded


def existing(path: str, base: Path) -> Path | None:
    """The file or folder a mentioned path names, trying it without trailing punctuation too
    ("look at @main.py." means main.py); None when it names nothing."""
    for candidate in (path, path.rstrip(_TRAILING)):
        if not candidate:
            continue
        resolved = resolve(candidate, base)
        try:
            if resolved.exists():
                return resolved
        except OSError:  # a name too long, a permission problem on the way
            continue
    return None


def pasted_paths(text: str) -> list[Path] | None:
    """The paths in pasted text if it is nothing but paths of existing files or folders, as
    terminals paste dropped files: ``/a/b c.png`` quoted or with ``\\ `` escapes, ``file://``
    URLs, several separated by spaces or lines. None for anything else (a pasted sentence, a
    relative name: those stay text)."""
    text = text.strip()
    if not text or len(text) > 16_384:
        return None
    tokens: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            parts = shlex.split(line)
        except ValueError:  # an unmatched quote: not a list of paths
            return None
        # One path with bare spaces in it (a terminal that pastes it unquoted) is one token.
        if len(parts) > 1 and os.path.exists(os.path.expanduser(line)):
            parts = [line]
        tokens.extend(parts)
    paths = []
    for token in tokens:
        if token.startswith("file://"):
            url = urlsplit(token)
            if url.netloc not in ("", "localhost"):
                return None
            token = unquote(url.path)
        elif not token.startswith(("/", "~")):
            return None
        path = Path(os.path.expanduser(token))
        try:
            if not path.is_absolute() or not path.exists():
                return None
        except OSError:
            return None
        paths.append(path)
    return paths or None


def display_name(path: Path, base: Path) -> str:
    """How an attached path is named on its chip: relative to ``base`` when inside it, else
    its last part; a folder ends in "/". Cleaned to one line: a file name may hold anything."""
    try:
        name = path.relative_to(base).as_posix()
    except ValueError:
        name = path.name or path.as_posix()
    if name in ("", "."):
        name = path.name or path.as_posix()
    return one_line(name + "/" if path.is_dir() and not name.endswith("/") else name, 200)


def candidates(typed: str, base: Path, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Completions for a mention's path as typed so far: the entries of the folder it names
    whose names start with (then contain) the last part typed, case ignored. Hidden entries
    only once a "." is typed; names with control characters never (they would go into the
    prompt as they are). Reads the disk: call it off the event loop."""
    folder_text, _, prefix = typed.rpartition("/")
    folder_part = folder_text + "/" if "/" in typed else ""
    folder = resolve(folder_part or ".", base) if folder_part != "/" else Path("/")
    if typed == "~":
        folder, folder_part, prefix = Path.home(), "~/", ""
    try:
        with os.scandir(folder) as scan:
            entries = list(scan)
    except OSError:
        return []
    low = prefix.lower()
    starts, contains = [], []
    for entry in entries:
        name = entry.name
        if (name.startswith(".") and not prefix.startswith(".")) or clean(name) != name or "\n" in name:
            continue
        lowered = name.lower()
        if lowered.startswith(low):
            starts.append(entry)
        elif len(low) > 1 and low in lowered:  # (one letter inside names matches nearly all)
            contains.append(entry)
    out = []
    for entry in sorted(starts, key=lambda e: e.name.lower()) + sorted(contains, key=lambda e: e.name.lower()):
        try:
            is_dir = entry.is_dir()
            size = None if is_dir else entry.stat().st_size
        except OSError:
            continue
        out.append(Candidate(entry.name + ("/" if is_dir else ""), folder_part + entry.name + ("/" if is_dir else ""),
                             is_dir, size))
        if len(out) >= limit:
            break
    return out
