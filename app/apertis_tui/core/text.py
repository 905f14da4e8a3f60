"""Making untrusted text safe to show and store.

Model output, error bodies, titles and model ids may carry escape sequences (OSC 52 clipboard
writes, title changes, screen clears). Terminals act on them even inside Textual widgets, so
every C0/C1 control character except newline and tab is dropped before text is shown or stored.
"""

from __future__ import annotations

import re

from .types import HIGHLIGHT_END, HIGHLIGHT_START

# C0 controls except \t (09) and \n (0a), DEL, the C1 range (0x80-0x9f), and the bidi
# embedding/override/isolate controls (U+202A-202E, U+2066-2069), which can make a terminal
# show text in another order than it is ("Trojan Source"). Zero-width characters stay: they
# are harmless, and joiners build emoji.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """``text`` with line ends normalised to ``\\n`` and other control characters removed."""
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", text)


def one_line(text: str, limit: int = 80) -> str:
    """A single cleaned line of at most ``limit`` characters (titles, labels)."""
    line = " ".join(clean(text).split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` removed, including a visible prefix of it (some proxies echo
    ``sk-abcd1234****`` back in their error messages)."""
    if not text or not secret:
        return text
    for n in range(len(secret), 7, -1):
        if secret[:n] in text:
            text = text.replace(secret[:n], "[redacted]")
    return text


_MARKERS = re.compile(f"({HIGHLIGHT_START}|{HIGHLIGHT_END})")


def snippet_spans(snippet: str) -> list[tuple[str, bool]]:
    """A search hit's snippet (the store marks the matched words with HIGHLIGHT_START/END) as
    cleaned one-line pieces, each with whether it is a match: the screen styles them, the
    shell wraps them in escape codes."""
    spans = []
    inside = False
    for part in _MARKERS.split(snippet):
        if part == HIGHLIGHT_START:
            inside = True
        elif part == HIGHLIGHT_END:
            inside = False
        elif part:
            # clean() after the split: it would drop the markers, which are control characters.
            spans.append((re.sub(r"\s+", " ", clean(part)), inside))
    return spans
