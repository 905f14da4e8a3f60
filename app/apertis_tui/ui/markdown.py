"""Rich's Markdown renderer, adjusted for chat: headings flush left, no live links, and the
markdown-it parsers built once. Imported on the first Markdown render, not at start-up."""

from __future__ import annotations

from typing import ClassVar

from markdown_it import MarkdownIt
from rich.markdown import Heading, Markdown


class _LeftHeading(Heading):
    """Rich centres h1; in a chat every heading reads better flush left."""

    LEVEL_ALIGN: ClassVar[dict[str, str]] = {f"h{n}": "left" for n in range(1, 7)}  # type: ignore[assignment]


def _parser(links: bool) -> MarkdownIt:
    parser = MarkdownIt().enable("strikethrough").enable("table")
    return parser if links else parser.disable(["link", "image"])


# Built once: Rich makes a new parser for every Markdown object, which costs more than parsing a
# small block. Without "](" a block has no inline link (and reference definitions cannot reach
# across our blocks anyway), so the link rules - slow on text full of brackets such as "[x]" -
# are skipped.
_PARSERS = {True: _parser(True), False: _parser(False)}


class ChatMarkdown(Markdown):
    elements = {**Markdown.elements, "heading_open": _LeftHeading}

    def __init__(self, markup: str, code_theme: str = "monokai", hyperlinks: bool = False) -> None:
        self.markup = markup
        self.parsed = _PARSERS["](" in markup].parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = hyperlinks
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme
