"""The chat pane's side of tools: what a request offers (the enabled tools, the chat's
tool_choice), and what to do when a model or server refuses tools. The rounds of calls in a
turn are ``tool_round.ToolRound``; the approval bar is ``tool_approval.ToolApproval``."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from ...core.text import one_line
from ...core.types import ApiError

if TYPE_CHECKING:
    from .chat_pane import ChatPane

_TOOL_WORDS = re.compile(r"tool|function", re.I)


def refuses_tools(error: ApiError | None) -> bool:
    """A 400 that speaks of tools or functions: the model or server does not take them."""
    return (error is not None and error.status == 400
            and bool(_TOOL_WORDS.search(f"{error.message} {error.detail or ''}")))


def tools_refused(model: str, error: ApiError) -> ApiError:
    detail = one_line(error.detail or error.message, 160)
    return ApiError("bad_request", f"{model} (or the server) does not accept tools (400: {detail}).",
                    "Turn tools off for this chat (f6), or choose another model (ctrl+o).", status=400,
                    detail=error.detail)


class ToolTurns:
    """Mixed into ``ChatPane``."""

    async def _tools_for_request(self: "ChatPane") -> tuple[list[dict] | None, object]:
        """The tools this chat's requests carry and its tool_choice; (None, None) without tools.
        Servers still starting are waited for (at most their start timeout)."""
        if not self.tools_on:
            return None, None
        servers = self.tui.tools
        servers.start()  # (a no-op once started; here for a prompt sent before the first frame was out)
        hub = servers.hub
        if hub is None:
            return None, None
        if any(status.state.value in ("starting", "stopped") for status in hub.servers()):
            self.status.tools("Starting the tool servers…")
            try:
                await servers.wait_started(servers.config.start_timeout + 5)
            except TimeoutError:
                pass  # the ready ones are used; the tools screen (f6) says what the others do
        tools = hub.openai_tools()
        if not tools:
            return None, None
        choice = self.chat_tools.choice
        if choice == "auto":
            return tools, None  # the server's default; not every server takes tool_choice
        if choice in ("none", "required"):
            return tools, choice
        if any(tool["function"]["name"] == choice for tool in tools):
            return tools, {"type": "function", "function": {"name": choice}}
        self.tui.notify(f"This chat's tool_choice names {choice}, which no running server offers now: "
                        "the model chooses (auto). f6 changes it.", severity="warning", timeout=10)
        return tools, None

    def _offer_tools_off(self: "ChatPane") -> None:
        """A model or server refused the tools: offer to turn them off here and ask again."""
        from ..screens.confirm import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes and self.is_attached:
                self.set_chat_tools(dataclasses.replace(self.chat_tools, enabled=False))
                self.action_regenerate()

        self.tui.push_screen(ConfirmDialog(
            f"{self.model} (or the server) does not accept tools. Turn tools off for this chat and ask again?",
            yes="Tools off, ask again", no="Keep tools"), answered)
