"""The list of paths offered while an ``@`` mention is typed in the prompt: files and folders
whose names start with (then contain) what is typed, one line each, the highlighted one marked.

It never takes the focus: the prompt keeps it, and its keys (tab, up, down, escape while the
list shows) move the highlight here. Mounted the first time a mention is typed; at most
``ROWS`` lines, the window following the highlight. Names are data: drawn as ``Text``.
"""

from __future__ import annotations

from rich.text import Text
from textual.events import Click
from textual.message import Message
from textual.widget import Widget

from ...core.attachments.mentions import Candidate, Mention
from ...core.attachments.model import KIND_MARKS, human_size
from ...core.text import one_line

ROWS = 8


class PathCompletion(Widget, can_focus=False):
    DEFAULT_CSS = """
    PathCompletion { height: auto; max-height: 9; margin: 0 1; padding: 0 1; background: $panel; display: none; }
    PathCompletion.-shown { display: block; }
    PathCompletion > .completion--highlight { background: $block-cursor-background; color: $block-cursor-foreground; }
    PathCompletion > .completion--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"completion--highlight", "completion--dim"}

    class Picked(Message):
        """A row was clicked."""

        def __init__(self, candidate: Candidate) -> None:
            super().__init__()
            self.candidate = candidate

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: list[Candidate] = []
        self.mention: Mention | None = None  # the mention (and its line) the rows complete
        self.row = 0  # the prompt's line the mention is on
        self.highlighted = 0
        self._top = 0

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    @property
    def current(self) -> Candidate | None:
        return self.rows[self.highlighted] if self.rows and self.shown else None

    def show(self, rows: list[Candidate], mention: Mention, row: int) -> None:
        self.rows, self.mention, self.row = rows, mention, row
        self.highlighted, self._top = 0, 0
        self.set_class(bool(rows), "-shown")
        self.refresh(layout=True)

    def hide(self) -> None:
        if self.shown:
            self.set_class(False, "-shown")
            self.mention = None

    def move(self, step: int) -> None:
        if not self.rows:
            return
        self.highlighted = (self.highlighted + step) % len(self.rows)
        if self.highlighted < self._top:
            self._top = self.highlighted
        elif self.highlighted >= self._top + ROWS:
            self._top = self.highlighted - ROWS + 1
        self.refresh()

    def render(self) -> Text:
        highlight = self.get_component_rich_style("completion--highlight")
        dim = self.get_component_rich_style("completion--dim")
        lines = []
        for index in range(self._top, min(len(self.rows), self._top + ROWS)):
            candidate = self.rows[index]
            mark = KIND_MARKS["folder" if candidate.is_dir else "image" if candidate.kind == "image" else "text"]
            line = Text(f"{mark} {one_line(candidate.name, 200)}")
            what = "folder" if candidate.is_dir else candidate.kind
            if candidate.size is not None:
                what += f", {human_size(candidate.size)}"
            line.append(f"  {what}", style=dim)
            if index == self.highlighted:
                line.stylize(highlight)
            line.no_wrap, line.overflow = True, "ellipsis"
            lines.append(line)
        more = len(self.rows) - self._top - ROWS
        if more > 0:
            lines.append(Text(f"… {more} more (↓)", style=dim))
        return Text("\n").join(lines)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, min(len(self.rows) - self._top, ROWS) + (len(self.rows) - self._top > ROWS))

    def on_click(self, event: Click) -> None:
        event.stop()
        index = self._top + event.y
        if 0 <= index < len(self.rows) and event.y < ROWS:
            self.post_message(self.Picked(self.rows[index]))
