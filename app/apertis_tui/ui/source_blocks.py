"""How a reply's web search is drawn under it: a line on how the search went, then its sources,
numbered as the answer cites them ([1], [2], …): the title, which is a terminal hyperlink (OSC 8)
to the source, and the host it goes to.

The link is the terminal's to follow (most open one on ctrl+click or cmd+click); the app itself
opens a source only when asked by its number (1 … 9 on a selected reply, or the palette), never
on a plain click. Titles and addresses are the server's text: drawn as plain Text (never
markup), and an address reaches the terminal only as ``core.web.safe_url`` left it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ..core.text import one_line
from ..core.web import WebSearch, WebSource, describe_search, host_of
from .render import text_strips


def render_sources(console: Console, search: WebSearch | None, sources: Sequence[WebSource], width: int, *,
                   dim_style: Style, link_style: Style) -> list[Strip]:
    """The lines under a reply that searched the web (none for one that did not)."""
    said = describe_search(search, len(sources)) if search is not None else (
        f"Sources ({len(sources)}):" if sources else "")
    if not said:
        return []
    lines = text_strips(console, Text(said, style=dim_style), width)
    for number, source in enumerate(sources, start=1):
        line = Text(f" [{number}] ", style=dim_style)
        title = one_line(source.title, 200) or "untitled"
        line.append(title, style=link_style + Style(link=source.url) if source.url else dim_style)
        host = host_of(source.url) if source.url else "no address"
        line.append(f"  {host}", style=dim_style)
        line.no_wrap = True
        line.overflow = "ellipsis"
        lines += text_strips(console, line, width)
    return lines
