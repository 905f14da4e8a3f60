"""The rows of the history list: options that carry their chat and draw themselves.

A ``ChatOption`` is one chat on one line (title, models, last activity, message count, spend); a
``HitOption`` is one search hit on two (the chat, then who said it and the snippet). Each is
both the OptionList's ``Option`` and its own prompt (a ``Visual``), so the list's options are
the only record of what is shown: nothing runs beside them, and a row costs one object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import rich.repr
from rich.style import Style
from rich.text import Text
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import RenderOptions, Visual
from textual.widgets.option_list import Option

from ....core.store import ChatSummary
from ....core.text import one_line, snippet_spans
from ....core.timefmt import relative_time
from ....core.types import Message, SearchHit

if TYPE_CHECKING:
    from .widgets import HistoryList


def snippet_text(snippet: str, match_style: Style | str) -> Text:
    """The store's snippet as one line of Text: the marked words styled, nothing parsed as markup."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for part, match in snippet_spans(snippet):
        text.append(part, style=match_style if match else "")
    return text


def _columns(width: int) -> tuple[int, int, int, int, int]:
    """Widths of title, models, last activity, message count and spend for a row ``width`` wide."""
    when, count = 13, 6
    models = 30 if width >= 110 else 22 if width >= 80 else 0
    spent = 11 if width >= 80 else 0  # "≤ $12.3456"
    title = max(8, width - models - when - count - spent - (3 if models else 2))
    return title, models, when, count, spent


def _cell(text: str | Text, width: int, style: Style | str = "", justify: str = "left") -> Text:
    cell = text if isinstance(text, Text) else Text(text, style=style)
    cell.truncate(width, overflow="ellipsis", pad=False)
    pad = " " * (width - cell.cell_len)
    return Text.assemble(pad, cell) if justify == "right" else Text.assemble(cell, pad)


def header_text(width: int) -> Text:
    """The column headings over the chat rows, laid out as ``ChatOption`` lays out a row."""
    title_w, models_w, when_w, count_w, spent_w = _columns(width)
    parts = [_cell("Title", title_w)]
    if models_w:
        parts += [Text(" "), _cell("Models", models_w)]
    parts += [Text(" "), _cell("Last activity", when_w, justify="right"), _cell("Msgs", count_w, justify="right")]
    if spent_w:
        parts.append(_cell("Spent", spent_w, justify="right"))
    return Text.assemble(*parts, no_wrap=True, overflow="crop")


@dataclass(frozen=True)
class RowStyles:
    title: Style | str = "bold"
    dim: Style | str = "dim"
    match: Style | str = "bold reverse"
    tag: Style | str = "italic"


class HistoryOption(Option, Visual):
    """A row of a fixed number of lines, each a Text laid out for the width.

    A Visual of its own rather than a Rich renderable: the OptionList asks every option's
    height whenever options are added or the width changes, and a renderable must be
    rendered to answer; the Text lines also go to strips without Rich's console pipeline.
    """

    LINES = 1

    def __init__(self, widget: "HistoryList", summary: ChatSummary | None, now: datetime | None) -> None:
        super().__init__(self)  # the option is its own prompt
        self.list = widget
        self.summary = summary
        self.now = now  # "5 min ago" is measured from here: one moment for a whole page

    # -- what the row is about ------------------------------------------------

    @property
    def chat_id(self) -> int:
        raise NotImplementedError

    @property
    def message_id(self) -> int | None:
        """The message to open the chat at (a search hit's), or None for its newest."""
        return None

    @property
    def archived(self) -> bool:
        return self.summary is not None and self.summary.chat.archived

    def update(self, summary: ChatSummary, now: datetime) -> None:
        """The chat as the store has it now (renamed, archived, restored)."""
        self.summary, self.now = summary, now

    def __rich_repr__(self) -> rich.repr.Result:  # Option's would repr the prompt: itself
        yield self.chat_id
        yield "message_id", self.message_id, None

    # -- drawing ----------------------------------------------------------------

    @property
    def styles(self) -> RowStyles:
        return self.list.row_style  # read at drawing time: follows the theme

    def lines(self, width: int) -> list[Text]:
        raise NotImplementedError

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.LINES

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def render_strips(self, width: int, height: int | None, style: VisualStyle,
                      options: RenderOptions) -> list[Strip]:
        console = self.list.app.console
        base = style.rich_style
        return [Strip(list(text.render(console)), text.cell_len).apply_style(base).crop_extend(0, width, base)
                for text in self.lines(width)[:height]]

    def _title(self, title: str) -> Text:
        text = Text(one_line(title, 300) or "Untitled chat", style=self.styles.title)
        if self.archived:
            text.append("  archived", style=self.styles.tag)
        return text


class ChatOption(HistoryOption):
    """One chat on one line: title, models, last activity, message count, what it cost."""

    summary: ChatSummary

    def __init__(self, widget: "HistoryList", summary: ChatSummary, now: datetime | None = None) -> None:
        super().__init__(widget, summary, now)

    @property
    def chat_id(self) -> int:
        return self.summary.chat.id

    def lines(self, width: int) -> list[Text]:
        chat = self.summary.chat
        title_w, models_w, when_w, count_w, spent_w = _columns(width)
        parts = [_cell(self._title(chat.title), title_w)]
        if models_w:
            models = ", ".join(one_line(m, 60) for m in self.summary.models) or one_line(chat.model, 60)
            parts += [Text(" "), _cell(models, models_w, self.styles.dim)]
        parts += [Text(" "), _cell(relative_time(chat.updated_at, self.now), when_w, self.styles.dim, "right"),
                  _cell(str(self.summary.message_count), count_w, "", "right")]
        if spent_w:  # measured; "≤" when a group it counts also paid for another chat's replies
            spent = self.summary.spent
            parts.append(_cell(spent.text() if spent is not None else "", spent_w, self.styles.dim, "right"))
        return [Text.assemble(*parts, no_wrap=True, overflow="crop")]


class HitOption(HistoryOption):
    """One search hit on two lines: the chat (title, models, when), then who said it and the
    snippet with the match highlighted."""

    LINES = 2

    def __init__(self, widget: "HistoryList", hit: SearchHit, summary: ChatSummary | None, message: Message | None,
                 now: datetime | None = None) -> None:
        super().__init__(widget, summary, now)
        self.hit = hit
        self.message = message  # None: the hit is in the title

    @property
    def chat_id(self) -> int:
        return self.hit.chat_id

    @property
    def message_id(self) -> int | None:
        return self.hit.message_id

    def update(self, summary: ChatSummary, now: datetime) -> None:
        super().update(summary, now)
        self.hit = replace(self.hit, chat_title=summary.chat.title)

    def lines(self, width: int) -> list[Text]:
        hit, summary, message = self.hit, self.summary, self.message
        title = self._title(hit.chat_title)
        when = relative_time(message.created_at if message else hit.updated_at, self.now)
        models = ", ".join(summary.models) if summary is not None else ""
        right = Text(f"{one_line(models, 40)}  {when}" if models and width >= 80 else when, style=self.styles.dim)
        right.truncate(max(0, width // 2), overflow="ellipsis")
        head = Text.assemble(_cell(title, max(1, width - right.cell_len - 1)), " ", right, no_wrap=True,
                             overflow="crop")
        if message is None:
            who = "title"
        elif message.role == "user":
            who = "You"
        else:
            who = one_line(message.model or message.role, 40)
        line = Text.assemble(("  ", ""), (who, self.styles.dim), (": ", self.styles.dim),
                             snippet_text(hit.snippet, self.styles.match), no_wrap=True, overflow="ellipsis")
        line.truncate(width, overflow="ellipsis")
        return [head, line]
