"""How tool calls and their results look in a message: one block per call (name, server, the
arguments as pretty JSON, its state while the turn runs), and a result folded past a few lines.

Everything here is text from a model or a tool server: it becomes ``rich.text.Text`` (never
markup) and was cleaned of escape sequences before it got here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ..core.text import clean
from .render import text_strips

#: Lines of arguments or of a result shown before the rest is folded away.
FOLDED_LINES = 6

#: What each state says after the call's name (running calls add their elapsed time).
_STATE_WORDS = {
    "asking": "waiting for you — y run · a always in this chat · n refuse · esc stops the turn",
    "queued": "approved",
    "running": "running",
    "done": "done",
    "failed": "failed",
    "refused": "refused",
    "stopped": "stopped",
    "skipped": "not run",
}


@dataclass
class CallBlock:
    """One tool call as shown: ``state`` is empty for a stored call (its result follows as a
    message of its own), else one of ``_STATE_WORDS``."""

    call_id: str
    name: str
    arguments: str
    server: str | None = None
    state: str = ""
    started: float | None = None
    note: str = ""  # "always allowed", "12 ms", "the round limit"...


def call_blocks(tool_calls: list[dict[str, Any]] | None) -> list[CallBlock]:
    """The blocks of a message's stored (OpenAI-shaped) ``tool_calls``."""
    blocks = []
    for call in tool_calls or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        blocks.append(CallBlock(
            call_id=str(call.get("id") or ""),
            name=clean(str(function.get("name") or "?")),
            arguments=clean(str(function.get("arguments") or "")),
        ))
    return blocks


def pretty_arguments(arguments: str) -> str:
    """The arguments as indented JSON; as sent, with a note, when they are not JSON."""
    if not arguments.strip():
        return "{}"
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return f"{arguments}\n(not valid JSON: the tool will not run; the model is told)"


def folded(lines: list[str], unfolded: bool) -> tuple[list[str], int]:
    """The lines to show and how many are hidden."""
    if unfolded or len(lines) <= FOLDED_LINES + 1:
        return lines, 0
    return lines[:FOLDED_LINES], len(lines) - FOLDED_LINES


def fold_note(hidden: int) -> str:
    return f"… {hidden} more line{'s' if hidden != 1 else ''} (o unfolds, with the message selected: ctrl+up)"


def state_text(block: CallBlock) -> str:
    words = _STATE_WORDS.get(block.state, "")
    if block.state == "running" and block.started is not None:
        words = f"running {time.monotonic() - block.started:.1f} s — esc stops"
    if block.note:
        words = f"{words} · {block.note}" if words else block.note
    return words


def render_calls(console: Console, blocks: list[CallBlock], width: int, *, unfolded: bool,
                 name_style: Style, dim_style: Style, asking_style: Style) -> tuple[list[Strip], int]:
    """The call blocks, one after the other (parallel calls are listed together), and how
    many lines of arguments are folded away."""
    out: list[Strip] = []
    hidden_total = 0
    if len(blocks) > 1:
        out += text_strips(console, Text(f"{len(blocks)} tool calls at once:", style=dim_style), width)
    for block in blocks:
        head = Text("⚙ ", style=name_style)
        head.append(block.name, style=name_style)
        if block.server:
            head.append(f" · {block.server}", style=dim_style)
        state = state_text(block)
        if state:
            head.append(f"  {state}", style=asking_style if block.state == "asking" else dim_style)
        out += text_strips(console, head, width)
        shown, hidden = folded(pretty_arguments(block.arguments).splitlines(), unfolded)
        hidden_total += hidden
        body = Text("\n".join(shown))
        if hidden:
            body.append("\n" + fold_note(hidden), style=dim_style)
        indent = Strip.blank(2)
        out += [Strip.join([indent, line]) for line in text_strips(console, body, max(1, width - 2))]
    return out, hidden_total
