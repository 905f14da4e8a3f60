"""One round of tool calls in a chat's turn: the calls of one answer are shown, each approved
(or refused) by the user, the approved ones run together, and every outcome is saved as a
"tool" message the moment it is known — a crash loses at most the calls still running.

Nothing here raises for what a model or a tool server does wrong: those become results the
model is told about. Escape cancels the chat's worker; then every call that has no result yet
gets one that says it was stopped, so the stored conversation stays whole.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import TYPE_CHECKING

from ...core.store import StoreError
from ...core.types import Message
from ..tool_blocks import CallBlock, call_blocks
from .tool_approval import ALWAYS, REFUSE

if TYPE_CHECKING:
    from ...core.tools import ToolHub, ToolResult
    from .chat_pane import ChatPane
    from .message_view import MessageView

log = logging.getLogger(__name__)

#: How often a running call's elapsed time is redrawn.
TICK = 0.2

REFUSED = "The user refused to run this tool call."
NOT_RUN_STOPPED = "Not run: the user stopped the turn."


class ToolRound:
    """The calls of ``message`` (an answer that ended asking for tools), shown in ``view``."""

    def __init__(self, pane: "ChatPane", message: Message, view: "MessageView", hub: "ToolHub | None",
                 *, over_limit: int | None = None) -> None:
        self.pane = pane
        self.app = pane.tui
        self.message = message
        self.view = view
        self.hub = hub
        self.over_limit = over_limit  # the round limit, when this round is past it
        self.blocks = call_blocks(message.tool_calls)
        self.parent = message.id  # the message the next result follows
        self._saved: set[str] = set()  # call ids with a stored result
        self._quiet = False  # only save, do not draw: the turn was stopped, the app may be closing

    async def run(self) -> int | None:
        """Run the round; the id of the last result saved (what the next answer follows),
        or None when the turn is over (the round limit, or a result that could not be saved)."""
        for block in self.blocks:
            tool = self.hub.resolve(block.name) if self.hub is not None else None
            block.server = tool.server if tool is not None else None
        self.view.set_calls(self.blocks)
        if self.over_limit is not None:
            sentence = (f"Not run: this turn reached its limit of {self.over_limit} tool rounds "
                        "([tools] max_rounds in the settings).")
            for block in self.blocks:
                self._finish(block, "skipped", sentence, "stopped")
            self.pane.status.tools(f"Stopped after {self.over_limit} rounds of tool calls (the limit). "
                                       "Send a message to let the model go on.", warning=True)
            return None
        running: dict[asyncio.Task[ToolResult], CallBlock] = {}
        try:
            approved = await self._approve()
            if approved is None:
                return None
            for block in approved:
                block.state, block.started = "running", time.monotonic()
                running[asyncio.create_task(self.hub.call(block.name, block.arguments))] = block  # type: ignore[union-attr]
            self.view.calls_changed()
            pending = set(running)
            while pending:
                done, pending = await asyncio.wait(pending, timeout=TICK, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if not self._result(running[task], self._outcome(task)):
                        return None
                self.view.calls_changed()  # the elapsed times
        except asyncio.CancelledError:
            self._stop_all(running)
            raise
        return self.parent

    # -- approving -------------------------------------------------------------

    async def _approve(self) -> list[CallBlock] | None:
        """Ask about each call in turn; the approved ones. Calls that cannot run are answered
        at once, without asking."""
        approved = []
        count = len(self.blocks)
        for number, block in enumerate(self.blocks, start=1):
            problem = self.hub.check(block.name, block.arguments) if self.hub is not None else None
            if self.hub is None:
                from ...core.tools import ToolResult

                problem = ToolResult("No tool servers are running in this app now, so no tool can be called.",
                                     is_error=True)
            if problem is not None:
                if not self._result(block, problem):
                    return None
                continue
            key = self._key(block)
            if key in self.pane.chat_tools.always:
                block.state, block.note = "queued", "always allowed in this chat"
            else:
                block.state = "asking"
                self.view.calls_changed()
                self.pane.status.tools("tools · waiting for your answer about the call above", warning=True)
                decision = await self.pane.approval.ask(block, position=(number, count))
                if decision == REFUSE:
                    if not self._finish(block, "refused", REFUSED, "refused"):
                        return None
                    continue
                if decision == ALWAYS:
                    tools = self.pane.chat_tools
                    if key not in tools.always:
                        self.pane.set_chat_tools(dataclasses.replace(tools, always=(*tools.always, key)))
                    block.note = "always allowed in this chat from now on"
                block.state = "queued"
            approved.append(block)
            self.view.calls_changed()
        if approved:
            names = ", ".join(dict.fromkeys(b.name for b in approved))
            self.pane.status.tools(f"Running {names}… esc stops.")
        return approved

    def _key(self, block: CallBlock) -> str:
        tool = self.hub.resolve(block.name) if self.hub is not None else None
        return f"{tool.server}/{tool.name}" if tool is not None else block.name

    # -- outcomes ----------------------------------------------------------------

    def _result(self, block: CallBlock, result: "ToolResult") -> bool:
        note = ""
        if result.truncated:
            note = f"result cut: {result.total_bytes - result.cut_bytes:,} of {result.total_bytes:,} bytes sent"
        state = "failed" if result.is_error else "done"
        return self._finish(block, state, result.text, "error" if result.is_error else "complete", note=note)

    @staticmethod
    def _outcome(task: "asyncio.Task[ToolResult]") -> "ToolResult":
        from ...core.tools import ToolResult

        try:
            return task.result()
        except Exception as exc:  # a bug of ours, not the tool's: the model is told it failed
            log.exception("a tool call failed inside the app")
            return ToolResult(f"The call failed inside apertis-tui ({type(exc).__name__}).", is_error=True)

    def _finish(self, block: CallBlock, state: str, content: str, status: str, *, note: str = "") -> bool:
        """Save a call's outcome as a tool message below the last one, show it; False (said)
        when it could not be saved (the turn then ends: its next answer would lack it)."""
        duration = round((time.monotonic() - block.started) * 1000) if block.started is not None else None
        block.state = state
        if note:
            block.note = note
        if block.call_id in self._saved:
            return True
        chat = self.pane.chat
        assert chat is not None
        try:
            message = self.app.store.add_tool_result(
                chat.id, block.call_id, content, parent_id=self.parent, status=status,
                tool=self._key(block), duration_ms=duration,
            )
        except StoreError as error:
            self.app.notify(f"{error} The tool's result was not saved; the turn stops here.", title="Not saved",
                            severity="error", timeout=20)
            return False
        self._saved.add(block.call_id)
        self.parent = message.id
        self.pane.leaf_id = message.id
        if self._quiet:
            return True
        self.view.calls_changed()
        if self.pane.is_attached:
            self.pane.messages.add(message)
        return True

    def _stop_all(self, running: dict[asyncio.Task, CallBlock]) -> None:
        """Escape: stop what runs, and give every call without a result one that says so."""
        for task, block in running.items():
            if not task.done():
                task.cancel()  # the hub tells the server to cancel the call
        # Escape in a running app shows each call stopped; on the way out (the app closing, the
        # chat closed) drawing could meet widgets already torn down: then only save.
        self._quiet = not (self.pane.is_attached and self.app.is_running and self.view.is_attached)
        for block in self.blocks:
            if block.call_id in self._saved:
                continue
            if block.state == "running" and block.started is not None:
                content = f"Stopped by the user after {time.monotonic() - block.started:.1f} s, before it finished."
            else:
                content = NOT_RUN_STOPPED
            try:
                self._finish(block, "stopped", content, "stopped")
            except Exception:  # the app may be closing: the next start replays what was saved
                log.exception("saving a stopped tool call failed")
