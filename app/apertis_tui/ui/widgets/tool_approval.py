"""The question a tool call waits on, asked in the chat: a bar above the status line that names
the call (its arguments are in the reply just above) and takes y / a / n. Not a modal: the
conversation, and the arguments, stay in sight.

``escape`` is not handled here: it reaches the chat pane, whose "stop" ends the whole turn.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from ..tool_blocks import CallBlock

#: What ``ask`` gives back.
RUN, ALWAYS, REFUSE = "run", "always", "refuse"


class ToolApproval(Static, can_focus=True):
    DEFAULT_CSS = """
    ToolApproval {
        display: none;
        height: auto;
        padding: 0 1;
        background: $warning 15%;
        border-left: thick $warning;
    }
    ToolApproval.-asking { display: block; }
    ToolApproval:focus { background: $warning 25%; }
    """

    BINDINGS = [
        Binding("y", "decide('run')", "Run", tooltip="Run this tool call", id="tools.run"),
        Binding("a", "decide('always')", "Always", tooltip="Run it, and this tool from now on in this chat",
                id="tools.always"),
        Binding("n", "decide('refuse')", "Refuse", tooltip="Do not run it: the model is told you refused",
                id="tools.refuse"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self._future: asyncio.Future[str] | None = None

    @property
    def asking(self) -> bool:
        return self._future is not None and not self._future.done()

    async def ask(self, block: CallBlock, *, position: tuple[int, int] | None = None) -> str:
        """Wait for the user's answer about ``block``: RUN, ALWAYS or REFUSE. Cancelling the
        awaiting task (escape stops the turn) takes the question away."""
        self._future = asyncio.get_running_loop().create_future()
        text = Text("⚙ Run ", style="bold")
        text.append(block.name, style="bold")
        if block.server:
            text.append(f" (server {block.server})")
        if position is not None and position[1] > 1:
            text.append(f", call {position[0]} of {position[1]}")
        text.append("?  ")
        text.append("y", style="bold")
        text.append(" run · ")
        text.append("a", style="bold")
        text.append(" always in this chat · ")
        text.append("n", style="bold")
        text.append(" refuse · ")
        text.append("esc", style="bold")
        text.append(" stop the turn")
        self.update(text)
        self.add_class("-asking")
        pane = self.parent
        focused = self.app.focused
        if pane is not None and pane.display and (focused is None or focused is pane
                                                  or pane in focused.ancestors):
            # The chat in front, being typed into: the keys come here (once it is mounted).
            self.call_after_refresh(self.focus)
        try:
            return await self._future
        finally:
            self._future = None
            self.remove_class("-asking")
            if self.has_focus and self.parent is not None:
                self.parent.focus_prompt()  # type: ignore[attr-defined]

    def action_decide(self, what: str) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(what)
