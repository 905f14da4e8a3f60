"""Text files: telling text from binary, decoding, and the fenced block a text is sent in."""

from __future__ import annotations

import re
from pathlib import PurePath

from .model import AttachmentError, human_size

SNIFF = 8192  # bytes looked at to tell text from binary

# Formats that are binary whatever their first bytes look like (a PDF often starts as text).
BINARY_SUFFIXES = frozenset(
    ".pdf .zip .gz .tgz .bz2 .xz .zst .7z .rar .tar .jar .war .whl .exe .dll .so .dylib .o .a .class .pyc .pyo "
    ".wasm .bin .dat .db .sqlite .sqlite3 .iso .img .dmg .deb .rpm .apk .ipa .mp3 .mp4 .m4a .mov .avi .mkv .webm "
    ".wav .flac .ogg .opus .ttf .otf .woff .woff2 .eot .psd .ai .sketch .xls .xlsx .doc .docx .ppt .pptx .odt "
    ".ods .odp .key .numbers .pages .parquet .npy .npz .pkl .pickle .pt .onnx .safetensors .gguf".split())

# The language tag of a fenced block, by suffix (what Markdown renderers and models expect).
_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".tsx": "tsx", ".jsx": "jsx", ".rs": "rust", ".go": "go", ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".java": "java", ".kt": "kotlin", ".swift": "swift",
    ".rb": "ruby", ".php": "php", ".cs": "csharp", ".sh": "sh", ".bash": "bash", ".zsh": "zsh",
    ".fish": "fish", ".ps1": "powershell", ".sql": "sql", ".html": "html", ".htm": "html", ".css": "css",
    ".scss": "scss", ".json": "json", ".jsonl": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml",
    ".xml": "xml", ".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".tex": "latex", ".lua": "lua",
    ".r": "r", ".jl": "julia", ".hs": "haskell", ".ml": "ocaml", ".ex": "elixir", ".exs": "elixir",
    ".erl": "erlang", ".clj": "clojure", ".scala": "scala", ".dart": "dart", ".vue": "vue", ".svelte": "svelte",
    ".ini": "ini", ".cfg": "ini", ".conf": "conf", ".diff": "diff", ".patch": "diff", ".csv": "csv",
    ".dockerfile": "dockerfile", ".mk": "make", ".nix": "nix", ".zig": "zig", ".tf": "hcl",
}
_NAMED = {"makefile": "make", "dockerfile": "dockerfile", "cmakelists.txt": "cmake", "gemfile": "ruby"}


def looks_binary(head: bytes, name: str = "") -> bool:
    """Binary by its suffix, a NUL byte, or not being UTF-8 with too many control bytes."""
    if PurePath(name).suffix.lower() in BINARY_SUFFIXES:
        return True
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:  # a character cut at the end of the sample
            return False
    # Not UTF-8: a legacy 8-bit text (Latin-1, cp1252) has few control bytes; binary has many.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) // 20


def decode(data: bytes) -> str:
    """UTF-8 (a BOM dropped); a legacy 8-bit text read as cp1252, never failing."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_text(path, name: str, limit: int) -> bytes:
    """The file's text as UTF-8 bytes; AttachmentError when it is binary or over ``limit`` bytes."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise AttachmentError(f"{name} is {human_size(size)}, over the {human_size(limit)} limit for text "
                                  "(Settings, f2: Attachments).")
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as error:
        raise AttachmentError(f"{name} could not be read ({error.strerror or error}).") from None
    if len(data) > limit:  # it grew since stat()
        raise AttachmentError(f"{name} is over the {human_size(limit)} limit for text (Settings, f2: Attachments).")
    if looks_binary(data[:SNIFF], name):
        raise AttachmentError(f"{name} is a binary file: only text files, folders and images (PNG, JPEG, "
                              "WebP, GIF) can be attached.")
    text = decode(data)
    return text.encode("utf-8")


def language(name: str) -> str:
    base = PurePath(name.rstrip("/")).name.lower()
    return _NAMED.get(base) or _LANGUAGES.get(PurePath(base).suffix, "")


def fence(text: str, info: str = "") -> str:
    """A fenced block that no run of backticks inside the text can close early."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{ticks}{info}\n{body}{ticks}"


def fenced_file(name: str, text: str) -> str:
    """How a text file is sent: its name on a line, then its text in a fenced block."""
    return f"{name}:\n{fence(text, language(name))}"
