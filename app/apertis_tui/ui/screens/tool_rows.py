"""The rows of the tools screen (f6): options that carry what they show and draw themselves.

Every row is both the OptionList's ``Option`` and its own prompt (a ``Visual``), as in the
history list: the list's options are the only record of what is shown. A row is a few blocks of
``Content`` (never markup: server names, descriptions, reasons and stderr are the servers'
text), each wrapped at the list's width with a hanging indent and cut to a number of lines, so a
long description or a long stderr line cannot push everything else off the screen.
"""

from __future__ import annotations

from typing import NamedTuple

from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets.option_list import Option

from ...core.tools import ServerState, ServerStatus, ToolInfo

INDENT = 6  # where a row's second and later lines start (past the state or switch column)
STDERR_SHOWN = 5  # the last lines of a failed server's stderr shown under its reason

STATE_LOOK = {  # glyph, style
    ServerState.READY: ("●", "$text-success"),
    ServerState.STARTING: ("◌", "$text-warning"),
    ServerState.FAILED: ("✗", "$text-error"),
    ServerState.STOPPED: ("○", "$foreground-muted"),
}


class Block(NamedTuple):
    content: Content
    indent: int = 0  # of every line of the block, the first included
    most: int = 0  # lines at most (0: all); a cut block ends with an ellipsis
    hang: int = 0  # further indent of the block's wrapped continuation lines


def description_lines(description: str, lines: int = 2) -> str:
    """The first ``lines`` non-blank lines of a tool's description (cleaned already)."""
    kept = [line.strip() for line in description.splitlines() if line.strip()]
    return "\n".join(kept[:lines])


class Row(Option, Visual):
    """An option drawn from ``blocks()``, laid out anew for each width."""

    def __init__(self, id: str, disabled: bool = False) -> None:
        super().__init__(self, id=id, disabled=disabled)  # the option is its own prompt
        self._laid_out: tuple[int, Content] | None = None

    def blocks(self) -> list[Block]:
        raise NotImplementedError

    def lines(self, width: int) -> list[Content]:
        out: list[Content] = []
        for block in self.blocks():
            indent = block.indent if width - block.indent - block.hang >= 12 else 0
            hang = block.hang if indent else 0
            lines: list[Content] = []
            for part in block.content.split("\n"):
                # Wrapped as narrow as the hanging lines, so that each fits once indented.
                first, *rest = part.wrap(max(1, width - indent - hang)) or [Content("")]
                lines.append(first)
                lines.extend(line.pad_left(hang) if hang else line for line in rest)
            if block.most and len(lines) > block.most:
                lines = lines[: block.most]
                last = lines[-1].rstrip()
                room = width - indent
                lines[-1] = last.truncate(room, ellipsis=True) if last.cell_length >= room else last + "…"
            out.extend(line.pad_left(indent) if indent else line for line in lines)
        return out

    def _content(self, width: int) -> Content:
        if self._laid_out is None or self._laid_out[0] != width:
            self._laid_out = (width, Content("\n").join(self.lines(width)))
        return self._laid_out[1]

    # -- the Visual protocol -------------------------------------------------------------------

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(width)) if width > 0 else 1

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        return self._content(width).render_strips(width, height, style, options)


class ServerRow(Row):
    """One server: its state, its tools' count; when it failed, why, and its last stderr lines."""

    def __init__(self, status: ServerStatus, where: str) -> None:
        super().__init__(id=f"server\0{status.name}")
        self.status = status
        self.where = where  # "stdio · npx", "http · example.com"

    def blocks(self) -> list[Block]:
        status = self.status
        glyph, style = STATE_LOOK[status.state]
        if status.state is ServerState.READY:
            count = len(status.tools)
            off = sum(not tool.enabled for tool in status.tools)
            state = f"ready · {count} tool{'' if count == 1 else 's'}" + (f", {off} switched off" if off else "")
        elif status.state is ServerState.STARTING:
            state = "starting…"
        else:
            state = status.state.value
        head = Content.assemble((glyph, style), "  ", (status.name, "bold"), "  ", (state, style), "  ",
                                (self.where, "$foreground-muted"))
        blocks = [Block(head, hang=3)]
        if status.state is ServerState.FAILED:
            if status.reason:
                blocks.append(Block(Content.styled(status.reason, "$text-error"), INDENT - 3, most=4))
            tail = status.stderr_tail[-STDERR_SHOWN:]
            if tail:
                blocks.append(Block(Content.styled("its stderr ended with:", "$foreground-muted italic"), INDENT - 3))
                blocks.extend(Block(Content.styled(line, "dim"), INDENT - 1, most=2) for line in tail)
        return blocks


class ServerHeading(Row):
    """A server's name over its tools in the tool list (not selectable)."""

    def __init__(self, server: str, count: int) -> None:
        super().__init__(id=f"heading\0{server}", disabled=True)
        self.server = server
        self.count = count

    def blocks(self) -> list[Block]:
        count = f"{self.count} tool{'' if self.count == 1 else 's'}"
        return [Block(Content.assemble((self.server, "bold"), "  ", (count, "$foreground-muted")))]


class ToolRow(Row):
    """One tool: its switch, its name (and the name the model sees, when not the same), the
    first line or two of its description."""

    def __init__(self, tool: ToolInfo) -> None:
        super().__init__(id=f"tool\0{tool.server}\0{tool.name}")
        self.tool = tool

    def blocks(self) -> list[Block]:
        tool = self.tool
        switch = ("● on  ", "$text-success bold") if tool.enabled else ("○ off ", "$foreground-muted")
        head = Content.assemble(switch, (tool.name, "bold" if tool.enabled else "$foreground-muted"))
        if tool.safe_name and tool.safe_name != tool.name:
            head = Content.assemble(head, "  ", (f"sent as {tool.safe_name}", "$foreground-muted"))
        blocks = [Block(head, hang=INDENT)]
        description = description_lines(tool.description)
        if description:
            blocks.append(Block(Content.styled(description, "$foreground-muted" if tool.enabled else "dim"), INDENT,
                                most=2))
        return blocks


CHOICE_NOTES = {
    "auto": "the model decides whether to call a tool",
    "none": "the model is told not to call any",
    "required": "the model must call at least one",
}


class ChoiceRow(Row):
    """One value of the chat's tool_choice: auto, none, required or one tool by the name the
    model sees. ``chosen`` marks the chat's."""

    def __init__(self, value: str, chosen: bool, note: str = "") -> None:
        super().__init__(id=f"choice\0{value}")
        self.value = value
        self.chosen = chosen
        self.note = note or CHOICE_NOTES.get(value, "")

    def blocks(self) -> list[Block]:
        mark = ("◉ ", "$text-accent bold") if self.chosen else ("○ ", "$foreground-muted")
        label = self.value if self.value in CHOICE_NOTES else f"only {self.value}"
        head = Content.assemble(mark, (label, "bold" if self.chosen else ""))
        if self.note:
            head = Content.assemble(head, "  ", (self.note, "$foreground-muted"))
        return [Block(head, hang=2)]


class AlwaysRow(Row):
    """A tool this chat runs without asking (``server/tool``)."""

    def __init__(self, entry: str) -> None:
        super().__init__(id=f"always\0{entry}")
        self.entry = entry

    def blocks(self) -> list[Block]:
        return [Block(Content(self.entry))]
